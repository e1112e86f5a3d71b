"""One sandboxed parser for the format tests (a real worker process, started once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingestion.archive import MB, ZipLimits
from ingestion.formats.limits import FormatLimits
from ingestion.sandbox import SandboxedParser, SandboxLimits


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxedParser]:
    """The worker under the default limits, except 1 MB e-mail attachments (the big-attachment test)."""
    parser = SandboxedParser(SandboxLimits(zip=ZipLimits(max_unpacked_bytes=100 * MB),
                                           formats=FormatLimits(max_attachment_mb=1)))
    yield parser
    parser.close()
