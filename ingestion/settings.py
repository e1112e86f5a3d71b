"""The ingestion layer's settings sections: the embedder, reading and chunking, retrieval, and the vector index."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, model_validator


class EmbeddingSettings(BaseModel):
    """The embedding model."""

    model: str = Field(
        "all-minilm-l6-v2",
        description="A catalogue name or the path of any sentence-transformers model directory.",
    )
    batch_size: int = Field(32, ge=1, description="Chunks embedded per batch.")
    query_prefix: str | None = Field(
        None, description="Text put before each question (E5: 'query: '); None takes the catalogue's, or none."
    )
    passage_prefix: str | None = Field(
        None, description="Text put before each chunk (E5: 'passage: '); None takes the catalogue's, or none."
    )
    backend: str | None = Field(
        None, pattern="^(torch|openvino|openvino-int8|remote)$",
        description="How chunks are embedded: torch (sentence-transformers), openvino / openvino-int8 (the model"
                    " exported to OpenVINO when models are provisioned; int8 statically quantised) or remote (an"
                    " OpenAI-compatible /v1/embeddings server at URL); None takes the catalogue's (torch for a"
                    " model given by path).",
    )
    threads: int = Field(0, ge=0, description="CPU threads of the OpenVINO backend; 0 lets OpenVINO choose.")
    url: str | None = Field(
        None, description="Base URL of the embedding server (vLLM, llama.cpp's server, Infinity, TEI), e.g."
                          " http://gpu-1:8080/v1; '/v1' is added when missing. Required when BACKEND is remote.",
    )
    api_key: SecretStr | None = Field(None, description="Sent as 'Authorization: Bearer ...' when set.")
    remote_model: str | None = Field(
        None, description="Model name sent to the embedding server; empty sends MODEL. The index records the name"
                          " and dimension it was built with; a server that answers for another model, or with"
                          " vectors of another dimension, is refused.",
    )
    tokenizer: str | None = Field(
        None, description="Remote backend: a catalogue name or model directory whose tokenizer.json counts word"
                          " pieces for chunking; None takes MODEL when it is a provisioned catalogue embedder, else"
                          " an estimate of one word piece per 3 characters.",
    )
    timeout_s: float = Field(60.0, gt=0, description="Remote backend: seconds one batch may take.")
    retries: int = Field(3, ge=0, le=10, description="Remote backend: extra attempts of a batch that failed.")
    retry_backoff_s: float = Field(0.5, ge=0, description="Remote backend: wait before the first retry; doubled"
                                                           " for each next.")

    @model_validator(mode="after")
    def _remote_needs_url(self) -> EmbeddingSettings:
        if self.backend == "remote" and not self.url:
            raise ValueError("BAKEN_EMBEDDINGS__BACKEND=remote needs BAKEN_EMBEDDINGS__URL (e.g. http://gpu-1:8080/v1)")
        return self


class IngestionSettings(BaseModel):
    """Reading and chunking documents."""

    chunk_tokens: int = Field(
        200, ge=32, description="Most word pieces per chunk, including its title line; below the embedder's window."
    )
    chunk_overlap: int = Field(40, ge=0, description="Word pieces repeated from the end of the previous chunk.")
    max_file_mb: int = Field(50, ge=1, description="Largest file accepted, in MB.")
    sandbox: bool = Field(
        True, description="Parse each file in a separate worker process under the limits below, so that a"
                          " hostile or broken file cannot freeze or kill the server; false parses in process.")
    parse_seconds: float = Field(60.0, gt=0, description="Wall-clock seconds one file may take to parse.")
    parse_cpu_seconds: int = Field(60, ge=1, description="CPU seconds one file may take to parse.")
    parse_memory_mb: int = Field(
        1024, ge=128, description="Address space of the parsing worker, in MB (RLIMIT_AS; about 150 MB is the"
                                  " worker itself).")
    max_text_mb: int = Field(50, ge=1, description="Most text one file may yield, in MB.")
    max_unpacked_mb: int = Field(
        500, ge=1, description="Most bytes a ZIP container (DOCX) may unpack to in total, and one PDF stream to.")
    max_zip_ratio: int = Field(
        100, ge=2, description="Highest compression ratio of a ZIP member over 1 MB (a bomb's is 1000 or more).")
    max_zip_members: int = Field(10_000, ge=1, description="Most members in a ZIP container.")
    max_sheet_rows: int = Field(
        100_000, ge=1, description="Most filled rows per spreadsheet sheet (XLSX, ODS, CSV); a sheet with more is"
                                   " refused. Reading also stops after 1,000 empty rows in a row.")
    ocr: bool = Field(True, description="Read scanned PDF pages (an image, no text) with Tesseract (Dutch data).")
    ocr_max_pages: int = Field(
        20, ge=1, description="Most scanned pages per PDF read with OCR; a scan with more is refused. Each page"
                              " takes seconds: keep PARSE_SECONDS above pages × seconds per page.")
    max_attachment_mb: int = Field(
        20, ge=1, description="Largest e-mail attachment read as part of its message; a larger one is named only.")
    sync_dir: Path | None = Field(
        None, description="A folder (the information manager's file share) that `baken serve` mirrors into the"
                          " index on a schedule, as `baken sync DIR` does; unset: no scheduled sync.")
    sync_interval_minutes: int = Field(
        60, ge=0, description="Minutes from the start of one scheduled sync (of any server process) to the next;"
                              " 0: only when the informatiebeheerder presses \"Nu synchroniseren\".")
    sync_delete: bool = Field(
        False, description="The scheduled sync deletes documents whose file left the folder (as `--delete`);"
                           " false only reports them.")
    sync_collection: str = Field(
        "algemeen", min_length=1, max_length=64, description="The collection synced files go into.")
    sync_retry_hours: float = Field(
        24, ge=0, description="A file that failed and has not changed is tried again once its failure is this old"
                              " (a time-out under load is not the file's fault); 0: at every run.")


class RetrievalSettings(BaseModel):
    """Finding sources for a question."""

    top_k: int = Field(4, ge=1, le=50, description="Most sources given to the model.")
    min_score: float | None = Field(
        None, ge=-1.0, le=1.0,
        description="Cosine similarity from which a chunk is relevant; None takes the value calibrated for the"
                    " embedder (ingestion.index.CALIBRATED; 0.25 for an uncalibrated one). Dense mode drops chunks"
                    " under it; hybrid mode finds no source only if the best chunk is under it and no top BM25"
                    " match covers min_coverage of the question. Calibrate with `python -m bench.eval`.",
    )
    min_coverage: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Share of a question's words (IDF-weighted, stemmed) that one of its top BM25 matches must"
                    " contain for it to have a source in hybrid mode; None takes the calibrated value.",
    )
    mode: str = Field(
        "hybrid", pattern="^(dense|lexical|hybrid)$",
        description="dense (embeddings), lexical (BM25 with Dutch/English stemming) or hybrid (both, fused).",
    )
    rrf_k: int = Field(
        10, ge=1, description="Reciprocal rank fusion constant: higher flattens the rank weights (10 measured best)."
    )
    candidates: int = Field(30, ge=1, le=500, description="Chunks each retriever proposes before fusion.")
    lexical_weight: float = Field(
        2.0, ge=0.0, le=10.0, description="Weight of the BM25 ranking against the dense one (1.0) in fusion."
    )


class IndexSettings(BaseModel):
    """Where the vector index lives."""

    url: str | None = Field(
        None, description="URL of a Chroma server (`chroma run`), e.g. http://chroma:8000, shared by every Baken"
                          " process; empty uses embedded Chroma under DATA_DIR/index/chroma.")
    token: SecretStr | None = Field(None, description="Bearer token for the Chroma server, when it needs one.")
    collection: str = Field("baken_chunks", description="Chroma collection that holds the chunks.")
