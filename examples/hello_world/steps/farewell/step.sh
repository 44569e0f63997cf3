#!/bin/bash
set -e

echo "Goodbye, World!"

# Post results via HTTP API
curl -sS --fail-with-body -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps/$MAXQ_STEP_ID/fields" \
  -H "Content-Type: application/json" \
  -H "Authorization: Bearer $MAXQ_TOKEN" \
  -d '{"fields": {"message": "Goodbye, World!", "timestamp": '$(date +%s)'}}'

exit 0 # Exit code determines success/failure
