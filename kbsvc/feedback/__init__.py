"""Feedback on entries and review flags raised from it."""
