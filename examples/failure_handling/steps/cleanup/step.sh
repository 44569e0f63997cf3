#!/bin/bash
# Runs after the process stage, whether it failed or not. Reads what the failed step left behind
# (its fields and status) and records what was cleaned up.
set -euo pipefail

api() {
  curl -sS --fail-with-body --retry 3 --retry-connrefused -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $MAXQ_TOKEN" "$@"
}

previous=$(api "$MAXQ_API/runs/$MAXQ_RUN_ID/fields?stepId=unreliable-step" | jq -c '.fields[0] // {}')
status=$(jq -r '.status // "unknown"' <<<"$previous")
echo "cleanup: reason=${CLEANUP_REASON:-unknown}; unreliable-step is $status, it left: $(jq -c '.fields // {}' <<<"$previous")"

# Remove whatever partial output the failed step would have produced.
scratch="${TMPDIR:-/tmp}/maxq-failure-handling-$MAXQ_RUN_ID"
rm -rf "$scratch"

api -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/logs" \
  -d "$(jq -cn --arg step "$MAXQ_STEP_ID" --arg status "$status" \
    '{level: "info", message: "cleanup finished", entityType: "step", entityId: $step, metadata: {unreliableStatus: $status}}')" >/dev/null

api -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps/$MAXQ_STEP_ID/fields" \
  -d "$(jq -cn --arg reason "${CLEANUP_REASON:-unknown}" --arg status "$status" --argjson ts "$(date +%s)" \
    '{fields: {cleanedUp: true, reason: $reason, unreliableStatus: $status, cleanedAt: $ts}}')" >/dev/null
