#!/bin/bash
# Run ESLint over the repository.
#   --fix   apply automatic fixes
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

case "${1:-}" in
  "") exec npx eslint . ;;
  --fix) exec npx eslint . --fix ;;
  *)
    echo "usage: $0 [--fix]" >&2
    exit 2
    ;;
esac
