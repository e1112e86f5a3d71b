"""Baken: a self-hosted AI workplace assistant for Dutch municipalities."""

__version__ = "0.1.0"
