"""The demo corpus: policy documents of the fictional municipality Gemeente Voorbeeld (our own writing)."""
