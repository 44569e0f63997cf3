#!/bin/bash
set -euo pipefail

# Read what the greet step posted in the previous stage.
greeting=$(curl -fsS "$MAXQ_API/runs/$MAXQ_RUN_ID/fields?stepId=greet-step" \
  -H 'Content-Type: application/json' |
  jq -r '.fields[0].fields.message // "(no greeting)"')

echo "The greet step said: $greeting"
echo "Goodbye, World!"

# Build the body with jq so that any text in $greeting is quoted correctly.
body=$(jq -cn --arg greeting "$greeting" --argjson ts "$(date +%s)" \
  '{fields: {message: "Goodbye, World!", inReplyTo: $greeting, timestamp: $ts}}')

curl -fsS -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps/$MAXQ_STEP_ID/fields" \
  -H 'Content-Type: application/json' \
  -d "$body"
