#!/bin/bash
# Generates a few headlines per symbol with a sentiment in [-1, 1]. Offline and deterministic:
# bash's $RANDOM is seeded from the run id.
set -euo pipefail
# shellcheck source=../../../../runtime/maxq.sh
. "${MAXQ_LIB:?MAXQ_LIB is set by MaxQ for every script it runs}"

SYMBOLS=(AAPL MSFT GOOG AMZN NVDA TSLA META NFLX)
GOOD=("beats earnings estimates" "announces record quarter" "wins major contract" "raises guidance")
BAD=("misses revenue targets" "faces regulatory probe" "cuts guidance" "recalls flagship product")
NEUTRAL=("holds annual meeting" "reshuffles management" "opens new office")

RANDOM=$(printf '%s' "$MAXQ_RUN_ID" | cksum | cut -d' ' -f1)

lines=()
for symbol in "${SYMBOLS[@]}"; do
  for ((n = 0; n < 3; n++)); do
    roll=$((RANDOM % 3))
    case $roll in
      0) text=${GOOD[RANDOM % ${#GOOD[@]}]} sentiment=$((50 + RANDOM % 51)) ;;
      1) text=${BAD[RANDOM % ${#BAD[@]}]} sentiment=$((-50 - RANDOM % 51)) ;;
      *) text=${NEUTRAL[RANDOM % ${#NEUTRAL[@]}]} sentiment=$((RANDOM % 41 - 20)) ;;
    esac
    lines+=("$symbol	$symbol $text	$sentiment")
  done
done

news=$(printf '%s\n' "${lines[@]}" |
  jq -Rsc 'split("\n") | map(select(length > 0) | split("\t") | {symbol: .[0], headline: .[1], sentiment: ((.[2] | tonumber) / 100)})')

echo "Generated $(jq length <<<"$news") headlines"
jq -r '.[] | "  [\(.sentiment)] \(.headline)"' <<<"$news"

maxq_post_fields "$(jq -cn --argjson news "$news" --argjson ts "$(date +%s)" \
  '{news: $news, count: ($news | length), source: "synthetic", fetchedAt: $ts}')" >/dev/null
