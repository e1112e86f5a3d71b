"""The auditor's pages: the log, its records, verification, and both overviews."""
