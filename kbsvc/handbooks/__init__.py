"""Topic handbooks: select entries, group, order, render to Markdown/HTML/PDF/DOCX, editions."""
