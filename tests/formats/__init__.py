"""Tests of the formats in ingestion.formats, with files generated at test time."""
