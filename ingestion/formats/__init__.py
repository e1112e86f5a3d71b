"""Parsers of the formats beyond PDF, DOCX, HTML, Markdown and text: one module per library (STYLE.md)."""
