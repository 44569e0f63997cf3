#!/bin/bash
# Fails on its first attempt and succeeds on the next. The step reads its own record to learn how
# many attempts have already failed (retryCount), so it needs no state of its own.
set -euo pipefail

api() {
  curl -sS --fail-with-body --retry 3 --retry-connrefused -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $MAXQ_TOKEN" "$@"
}

# GET /runs/{run}/steps/{step} answers with the step (accept it bare or wrapped as {step: ...}).
retry_count=$(api "$MAXQ_API/runs/$MAXQ_RUN_ID/steps/$MAXQ_STEP_ID" | jq '(.step // .) | .retryCount // 0')
attempt=$((retry_count + 1))

echo "flaky: attempt $attempt (failed attempts so far: $retry_count)"

if [ "$retry_count" -eq 0 ]; then
  echo "flaky: simulating a transient failure on the first attempt" >&2
  exit 1
fi

api -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps/$MAXQ_STEP_ID/fields" \
  -d "$(jq -cn --argjson attempt "$attempt" --argjson ts "$(date +%s)" \
    '{fields: {succeededOnAttempt: $attempt, recoveredAt: $ts}}')" >/dev/null

echo "flaky: succeeded on attempt $attempt"
