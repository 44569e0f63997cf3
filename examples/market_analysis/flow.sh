#!/bin/bash
# market_analysis: three stages planned one at a time, written with the shell helper library.
#
#   data-fetch  fetch-prices, fetch-news              (parallel, no dependencies)
#   analysis    analyzer-0 .. analyzer-3              (one script, four shards, fan-out)
#   report      report                                (final: reads every analyzer's fields)
set -euo pipefail

# shellcheck source=../../runtime/maxq.sh
. "${MAXQ_LIB:?MAXQ_LIB is set by MaxQ for every script it runs}"

SHARD_COUNT=4

analyzer_ids() {
  local ids=() i
  for ((i = 0; i < SHARD_COUNT; i++)); do ids+=("analyzer-$i"); done
  local IFS=,
  echo "${ids[*]}"
}

if [ -n "${MAXQ_FAILED_STAGE:-}" ]; then
  # Nothing to recover here: log it and schedule nothing, which ends the run as failed.
  maxq_log error "stage $MAXQ_FAILED_STAGE failed; market_analysis gives up"
  exit 0
fi

case "${MAXQ_COMPLETED_STAGE:-}" in
  "")
    # Both fetches start at once: neither depends on the other. Each may retry once.
    steps="[$(maxq_step fetch-prices fetch-prices "" 1),$(maxq_step fetch-news fetch-news "" 1)]"
    maxq_schedule data-fetch false "$steps"
    ;;

  data-fetch)
    # Fan-out: the same step name (steps/analyzer/step.sh) under four ids, told apart by SHARD.
    steps='[]'
    for ((i = 0; i < SHARD_COUNT; i++)); do
      step=$(maxq_step "analyzer-$i" analyzer fetch-prices,fetch-news 1 \
        "$(jq -cn --arg shard "$i" --arg count "$SHARD_COUNT" '{SHARD: $shard, SHARD_COUNT: $count}')")
      steps=$(jq -c --argjson step "$step" '. + [$step]' <<<"$steps")
    done
    maxq_schedule analysis false "$steps"
    maxq_log info "scheduled $SHARD_COUNT analyzers"
    ;;

  analysis)
    # dependsOn may name steps of earlier stages; the report also learns the ids through env.
    step=$(maxq_step report report "$(analyzer_ids)" 0 "$(jq -cn --arg ids "$(analyzer_ids)" '{ANALYZERS: $ids}')")
    maxq_schedule report true "[$step]"
    ;;

  *)
    maxq_log warn "unexpected completed stage: $MAXQ_COMPLETED_STAGE"
    ;;
esac
