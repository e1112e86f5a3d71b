#!/bin/sh
# Container entrypoint: check the provisioned models' sha256, then become `baken serve` (one process, PID 1).
# Configuration comes from BAKEN_* variables. Any other command is run as given (e.g. `baken ingest /import`).
set -eu

if [ "$#" -gt 0 ] && [ "$1" != "serve" ]; then
  exec "$@"
fi
[ "$#" -gt 0 ] && shift

if ! baken models verify; then
  echo "baken-entrypoint: model verification failed; not starting. The models in" \
       "${BAKEN_MODELS_DIR:-\$BAKEN_DATA_DIR/models} are missing or do not match the catalogue's sha256:" \
       "rebuild the image (it provisions them) or fix BAKEN_LLM__MODEL / BAKEN_EMBEDDINGS__MODEL." >&2
  exit 78  # EX_CONFIG: restarting will not help
fi

exec baken serve --host "${BAKEN_WEB__HOST:-0.0.0.0}" --port "${BAKEN_WEB__PORT:-8000}" "$@"
