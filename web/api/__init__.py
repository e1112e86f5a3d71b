"""The OpenAI-compatible API: keys, the gateway's rules, the routes under /v1."""
