"""Consistent backups of the database and settings; restore into an empty site."""
