#!/bin/bash
# Install dependencies: `npm ci` when package-lock.json exists, else `npm install`.
#   --force   remove node_modules first
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

force=false
for arg in "$@"; do
  case "$arg" in
    --force) force=true ;;
    -h | --help)
      echo "usage: $0 [--force]"
      exit 0
      ;;
    *)
      echo "install-deps.sh: unknown option: $arg" >&2
      exit 2
      ;;
  esac
done

if [ "$force" = true ]; then
  echo "==> removing node_modules"
  rm -rf node_modules
fi

if [ -f package-lock.json ]; then
  echo "==> npm ci"
  npm ci
else
  echo "==> npm install"
  npm install
fi
