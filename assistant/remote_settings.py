"""Settings of a remote, OpenAI-compatible model server (llama.cpp's llama-server, vLLM, llama_cpp.server).

Meant to be mixed into the LLM settings section, so they read as ``BAKEN_LLM__BACKEND=remote``,
``BAKEN_LLM__URL=http://gpu-1:8080/v1``, ``BAKEN_LLM__API_KEY=...``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, model_validator


class RemoteLLMSettings(BaseModel):
    """Where the generating model runs: in this process (llama.cpp) or on an OpenAI-compatible server."""

    backend: str = Field(
        "llamacpp", pattern="^(llamacpp|remote)$",
        description="llamacpp: load the GGUF in this process; remote: call the OpenAI-compatible server at URL.",
    )
    url: str | None = Field(
        None,
        description="Base URL of the model server, e.g. http://gpu-1:8080/v1; '/v1' is added when missing."
                    " Required when BACKEND is remote.",
    )
    api_key: SecretStr | None = Field(
        None, description="Sent as 'Authorization: Bearer ...' when set (vLLM --api-key, llama-server --api-key)."
    )
    remote_model: str | None = Field(
        None,
        description="Model name sent to the server and recorded in the audit log; empty takes the first"
                    " model the server lists at /v1/models.",
    )
    connect_timeout_s: float = Field(5.0, gt=0, description="Seconds to open a connection to the server.")
    read_timeout_s: float = Field(
        120.0, gt=0,
        description="Most seconds of silence from the server, including the wait for the first token.",
    )
    retries: int = Field(
        2, ge=0, le=10,
        description="Extra attempts when the server cannot be connected to; never once an answer has started.",
    )
    retry_backoff_s: float = Field(0.5, ge=0, description="Wait before the first retry; doubled for each next.")

    @model_validator(mode="after")
    def _remote_needs_url(self) -> RemoteLLMSettings:
        if self.backend == "remote" and not self.url:
            raise ValueError("BAKEN_LLM__BACKEND=remote needs BAKEN_LLM__URL (e.g. http://gpu-1:8080/v1)")
        return self
