"""`python -m tests.embedding_server ARGS…`: llama_cpp.server (the real server, its own arguments) serving
OpenAI-compatible /v1/embeddings with mean pooling.

llama.cpp's own llama-server takes ``--pooling mean``; llama_cpp.server has no such flag, and without it a chat
model's embeddings come back one vector per token. Only that default is changed here, before the server's
own entry point runs.
"""

from __future__ import annotations

import functools
import runpy

import llama_cpp

llama_cpp.Llama.__init__ = functools.partialmethod(  # type: ignore[method-assign]
    llama_cpp.Llama.__init__, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN)
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
