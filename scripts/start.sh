#!/bin/bash
# Start MaxQ: the API and the scheduler loop in one process (the local runner). It uses
# PostgreSQL when MAXQ_DATABASE_URL is set, else SQLite at MAXQ_SQLITE_PATH (default
# ./data/maxq.db). Builds first when a source is newer than the last build. Arguments are passed
# through.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -d node_modules ]; then ./scripts/install-deps.sh; fi
node scripts/build-if-stale.mjs

exec node dist/wrangler-free-local/main.js "$@"
