"""Controlled vocabularies: systems, modules, departments, categories."""
