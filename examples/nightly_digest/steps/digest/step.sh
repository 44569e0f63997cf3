#!/bin/bash
# Says what started this run (its metadata.trigger: "api", or the schedule and slot) and posts it
# with the run's input as the step's fields.
set -euo pipefail
. "$MAXQ_LIB"

run=$(curl -sS --fail-with-body -H "Authorization: Bearer $MAXQ_TOKEN" "$MAXQ_API/runs/$MAXQ_RUN_ID")
trigger=$(jq -c '.metadata.trigger // "api"' <<<"$run")
hours=$(maxq_input '.hours // 24')
echo "digest of the last ${hours}h, started by $trigger"
maxq_post_fields "$(jq -nc --argjson trigger "$trigger" --argjson hours "$hours" '{hours: $hours, trigger: $trigger}')"
