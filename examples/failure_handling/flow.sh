#!/bin/bash
# failure_handling: stage "process" runs a step that always exits 1 with no retries. The stage
# fails, and MaxQ calls this flow again with MAXQ_FAILED_STAGE=process. The flow logs the
# failure and schedules a final "cleanup" stage, so the run still ends "completed".
set -euo pipefail

api() {
  curl -sS --fail-with-body --retry 3 --retry-connrefused -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $MAXQ_TOKEN" "$@"
}

log() { # log <level> <message> [metadata-json]
  api -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/logs" \
    -d "$(jq -cn --arg level "$1" --arg message "$2" --argjson metadata "${3:-null}" \
      '{level: $level, message: $message} + (if $metadata == null then {} else {metadata: $metadata} end)')" >/dev/null
}

schedule_cleanup() { # schedule_cleanup <reason>
  api -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps" \
    -d "$(jq -cn --arg reason "$1" '{
      stage: "cleanup",
      final: true,
      steps: [{id: "cleanup-step", name: "cleanup", dependsOn: [], maxRetries: 1,
               env: {CLEANUP_REASON: $reason}}]
    }')"
}

if [ -n "${MAXQ_FAILED_STAGE:-}" ]; then
  log warn "stage $MAXQ_FAILED_STAGE failed; scheduling cleanup" \
    "$(jq -cn --arg failed "$MAXQ_FAILED_STAGE" --arg completed "${MAXQ_COMPLETED_STAGE:-}" \
      '{failedStage: $failed, lastCompletedStage: $completed}')"
  schedule_cleanup "failed:$MAXQ_FAILED_STAGE"
  exit 0
fi

case "${MAXQ_COMPLETED_STAGE:-}" in
  "")
    log info "starting: scheduling stage process"
    api -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps" \
      -d '{
        "stage": "process",
        "final": false,
        "steps": [{"id": "unreliable-step", "name": "unreliable", "dependsOn": [], "maxRetries": 0}]
      }'
    ;;
  process)
    # Not reached with this step (it always fails), but a flow should handle success too.
    log info "stage process completed; cleaning up"
    schedule_cleanup "completed"
    ;;
esac
