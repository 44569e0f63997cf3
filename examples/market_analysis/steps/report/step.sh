#!/bin/bash
# Final stage: gathers every analyzer's fields, ranks the symbols, posts a summary on this step
# and as the run's output, and prints a report (stored as this step's stdout).
set -euo pipefail
# shellcheck source=../../../../runtime/maxq.sh
. "${MAXQ_LIB:?MAXQ_LIB is set by MaxQ for every script it runs}"

ANALYZERS=${ANALYZERS:-analyzer-0,analyzer-1,analyzer-2,analyzer-3}

# Everything each analyzer posted ...
rows=$(maxq_fields "$ANALYZERS" | jq -c .fields)
# ... and only the score field, which is how a consumer reads one value per step.
scores=$(maxq_fields "$ANALYZERS" score | jq -c .fields)

summary=$(jq -cn --argjson rows "$rows" --argjson scores "$scores" '
  ([$rows[].fields.symbols[]] | sort_by(-.score)) as $ranked
  | { shards: ($rows | length),
      symbols: ($ranked | length),
      ranking: [$ranked[] | {symbol, score, returnPct}],
      best: ($ranked[0].symbol // null),
      worst: ($ranked[-1].symbol // null),
      shardScores: ($scores | map({key: .stepId, value: .fields.score}) | from_entries),
      marketScore: (if ($ranked | length) > 0 then ($ranked | map(.score) | add / length * 100 | round / 100) else 0 end) }')

if [ "$(jq .shards <<<"$summary")" -ne "$(tr ',' '\n' <<<"$ANALYZERS" | grep -c .)" ]; then
  echo "expected fields from $ANALYZERS, got $(jq -c '[.[].stepId]' <<<"$rows")" >&2
  exit 1
fi

echo "=== Market report for run $MAXQ_RUN_ID ==="
jq -r '"Symbols analysed: \(.symbols) across \(.shards) shards", "Market score: \(.marketScore)"' <<<"$summary"
printf '\n%-4s  %-6s  %8s  %8s\n' Rank Symbol Score Return%
rank=0
while IFS=$'\t' read -r symbol score ret; do
  rank=$((rank + 1))
  printf '%-4s  %-6s  %8s  %8s\n' "$rank" "$symbol" "$score" "$ret"
done < <(jq -r '.ranking[] | [.symbol, .score, .returnPct] | @tsv' <<<"$summary")
jq -r '"", "Best: \(.best)   Worst: \(.worst)",
  "Shard scores: \(.shardScores | to_entries | map("\(.key)=\(.value)") | join(" "))"' <<<"$summary"

maxq_post_fields "$(jq -c '{summary: .}' <<<"$summary")" >/dev/null

# The run's output is what a caller of GET /runs/{id} sees first.
curl -sS --fail-with-body -X PATCH "$MAXQ_API/runs/$MAXQ_RUN_ID" \
  -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $MAXQ_TOKEN" \
  -d "$(jq -c '{output: {best, worst, marketScore}}' <<<"$summary")" >/dev/null
