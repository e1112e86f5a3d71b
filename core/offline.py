"""The offline environment: nothing may reach out at run time (no model hub, no telemetry, no public-suffix
list download). Set before the libraries that read these variables are imported."""

from __future__ import annotations

import os

OFFLINE = (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("HF_HUB_DISABLE_TELEMETRY", "1"),
           ("ANONYMIZED_TELEMETRY", "False"), ("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", ""),
           ("TOKENIZERS_PARALLELISM", "false"), ("TRANSFORMERS_VERBOSITY", "error"),
           ("HF_HUB_DISABLE_PROGRESS_BARS", "1"))


def go_offline() -> None:
    """Set every variable that keeps the libraries offline and quiet, unless the environment already has it."""
    for name, value in OFFLINE:
        os.environ.setdefault(name, value)
