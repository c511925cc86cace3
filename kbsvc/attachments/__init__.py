"""Attachments: images and PDFs on entries, sniffed, re-encoded, reviewed and OCR-indexed."""
