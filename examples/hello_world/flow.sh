#!/bin/bash
# hello_world: two stages, each with one step. MaxQ calls this script once when the run starts
# (MAXQ_COMPLETED_STAGE empty) and again after each non-final stage completes.
set -euo pipefail

if [ -z "${MAXQ_COMPLETED_STAGE:-}" ]; then
  # First call - schedule greeting stage
  curl -sS --fail-with-body -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps" \
    -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $MAXQ_TOKEN" \
    -d '{
      "stage": "greeting",
      "final": false,
      "steps": [{
        "id": "greet-step",
        "name": "greet",
        "dependsOn": [],
        "maxRetries": 0
      }]
    }'
elif [ "$MAXQ_COMPLETED_STAGE" = "greeting" ]; then
  # Second call - schedule farewell stage
  curl -sS --fail-with-body -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps" \
    -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $MAXQ_TOKEN" \
    -d '{
      "stage": "farewell",
      "final": true,
      "steps": [{
        "id": "farewell-step",
        "name": "farewell",
        "dependsOn": [],
        "maxRetries": 0
      }]
    }'
fi
