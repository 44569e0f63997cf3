#!/bin/bash
# Build the Docker image maxq:latest from the Dockerfile at the repository root.
# Extra arguments go to `docker build` (for example --no-cache).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

exec docker build -t maxq:latest "$@" .
