#!/bin/bash
# Start MaxQ: the API and the scheduler loop in one process (the local runner). It uses
# PostgreSQL when MAXQ_DATABASE_URL is set, else SQLite at MAXQ_SQLITE_PATH (default
# ./data/maxq.db). Builds first when dist/ is missing. Arguments are passed through.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -f dist/wrangler-free-local/main.js ]; then
  ./scripts/build.sh
fi

exec node dist/wrangler-free-local/main.js "$@"
