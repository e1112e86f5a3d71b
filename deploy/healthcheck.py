"""Container HEALTHCHECK: exit 0 when Baken's /healthz answers 200 on the configured port, else 1."""

import os
import sys
import urllib.request

port = os.environ.get("BAKEN_WEB__PORT", "8000")
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError as exc:
    print(f"healthcheck: {exc}", file=sys.stderr)
    sys.exit(1)
