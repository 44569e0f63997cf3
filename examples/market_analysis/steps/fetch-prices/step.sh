#!/bin/bash
# Generates 30 days of closing prices per symbol. Offline and deterministic: the random walk is
# seeded from the run id, so the same run always "fetches" the same prices, also on a retry.
set -euo pipefail
# shellcheck source=../../../../runtime/maxq.sh
. "${MAXQ_LIB:?MAXQ_LIB is set by MaxQ for every script it runs}"

SYMBOLS=(AAPL MSFT GOOG AMZN NVDA TSLA META NFLX)
DAYS=30
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
