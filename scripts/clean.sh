#!/bin/bash
# Remove build artifacts and installed dependencies: dist/, runtime/native/build/, node_modules/,
# coverage/.
# The SQLite database under data/ is left alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "==> removing dist runtime/native/build node_modules coverage"
rm -rf dist runtime/native/build node_modules coverage
