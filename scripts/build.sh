#!/bin/bash
# Build MaxQ into dist/.
#   --install   (re)install dependencies first (they are installed anyway when node_modules is missing)
#   --migrate   run the database migrations after the build (npm run migrate:maxq:latest)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

install=false
migrate=false
for arg in "$@"; do
  case "$arg" in
    --install) install=true ;;
    --migrate) migrate=true ;;
    -h | --help)
      echo "usage: $0 [--install] [--migrate]"
      exit 0
      ;;
    *)
      echo "build.sh: unknown option: $arg" >&2
      exit 2
      ;;
  esac
done

if [ "$install" = true ]; then
  ./scripts/install-deps.sh --force
elif [ ! -d node_modules ]; then
  ./scripts/install-deps.sh
fi

echo "==> npm run build"
npm run build

if [ "$migrate" = true ]; then
  echo "==> npm run migrate:maxq:latest"
  npm run migrate:maxq:latest
fi
