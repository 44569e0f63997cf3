#!/bin/bash
# Always fails. It posts a field first, to show that fields never decide a step's status: only
# the exit code does.
set -euo pipefail

curl -sS --fail-with-body -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps/$MAXQ_STEP_ID/fields" \
  -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $MAXQ_TOKEN" \
  -d '{"fields": {"progress": "half done", "ok": true}}' >/dev/null

# Leave partial output behind, as a real step that dies half-way would; cleanup removes it.
scratch="${TMPDIR:-/tmp}/maxq-failure-handling-$MAXQ_RUN_ID"
mkdir -p "$scratch"
echo "partial" >"$scratch/output.part"

echo "unreliable: working..."
echo "unreliable: the upstream service is unavailable" >&2
exit 1
