"""Documents: upload and indexing jobs, the document list, collections, folder sync."""
