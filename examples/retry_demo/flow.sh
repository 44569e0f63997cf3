#!/bin/bash
# retry_demo: one final stage with one flaky step allowed two retries (three attempts in all).
set -euo pipefail

if [ -z "${MAXQ_COMPLETED_STAGE:-}" ] && [ -z "${MAXQ_FAILED_STAGE:-}" ]; then
  curl -sS --fail-with-body --retry 3 --retry-connrefused -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps" \
    -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $MAXQ_TOKEN" \
    -d '{
      "stage": "flaky",
      "final": true,
      "steps": [{"id": "flaky-step", "name": "flaky", "dependsOn": [], "maxRetries": 2}]
    }'
fi
# Called again only if the stage failed (all three attempts failed): scheduling nothing ends the
# run as failed.
