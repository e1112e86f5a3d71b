"""The chat: questions, streamed answers, the history of a user's conversations."""
