#!/bin/bash
# Format the repository with Prettier (files listed in .prettierignore are skipped).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

exec npx prettier --write .
