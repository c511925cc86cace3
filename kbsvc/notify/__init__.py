"""Notifications: events go to an outbox in the caller's transaction; a worker sends them."""
