#!/bin/bash
# Generates daily closing prices per symbol: 30 days, or the run input's `days` (trigger with
# -d '{"input": {"days": 90}}'). Offline and deterministic: the random walk is seeded from the run
# id, so the same run always "fetches" the same prices, also on a retry.
set -euo pipefail
# shellcheck source=../../../../runtime/maxq.sh
. "${MAXQ_LIB:?MAXQ_LIB is set by MaxQ for every script it runs}"

SYMBOLS=(AAPL MSFT GOOG AMZN NVDA TSLA META NFLX)
# The run's input, with a default: a run triggered with `{}` has none.
DAYS=$(maxq_input '.days // 30')
if ! [[ $DAYS =~ ^[1-9][0-9]{0,3}$ ]] || ((DAYS < 2 || DAYS > 3650)); then
  echo "input.days must be a whole number of days from 2 to 3650, got: $DAYS" >&2
  exit 1
fi
seed=$(printf '%s' "$MAXQ_RUN_ID" | cksum | cut -d' ' -f1)

prices=$(
  for symbol in "${SYMBOLS[@]}"; do echo "$symbol"; done |
    awk -v seed="$seed" -v days="$DAYS" '
      BEGIN { srand(seed % 2147483647) }
      {
        price = 50 + rand() * 450
        drift = (rand() - 0.45) * 0.01
        line = $1
        for (d = 0; d < days; d++) {
          price = price * (1 + drift + (rand() - 0.5) * 0.04)
          line = line " " sprintf("%.2f", price)
        }
        print line
      }' |
    jq -Rsc 'split("\n") | map(select(length > 0) | split(" ") | {key: .[0], value: (.[1:] | map(tonumber))}) | from_entries'
)

echo "Generated $DAYS daily closes for ${#SYMBOLS[@]} symbols (seed $seed)"
jq -r 'to_entries[] | "  \(.key): \(.value[0]) -> \(.value[-1])"' <<<"$prices"

maxq_post_fields "$(jq -cn --argjson prices "$prices" --argjson days "$DAYS" --argjson ts "$(date +%s)" \
  '{symbols: ($prices | keys), days: $days, prices: $prices, source: "synthetic", fetchedAt: $ts}')" >/dev/null
