"""One turn of a conversation: redact, retrieve, build the prompt, generate, restore, cite, log."""
