#!/bin/bash
# One shard of the analysis. Four copies of this script run at once (analyzer-0..3); each takes
# the symbols whose index modulo SHARD_COUNT equals its SHARD and scores them from the fetched
# prices (return and volatility) and news (mean sentiment).
set -euo pipefail
# shellcheck source=../../../../runtime/maxq.sh
. "${MAXQ_LIB:?MAXQ_LIB is set by MaxQ for every script it runs}"

: "${SHARD:?SHARD is set by the flow in the step env}"
SHARD_COUNT=${SHARD_COUNT:-4}

# One query for both upstream steps: stepId takes a comma-separated list.
rows=$(maxq_fields fetch-prices,fetch-news | jq -c .fields)

analysis=$(jq -c --argjson shard "$SHARD" --argjson count "$SHARD_COUNT" '
  (map(select(.stepId == "fetch-prices"))[0].fields.prices) as $prices
  | (map(select(.stepId == "fetch-news"))[0].fields.news) as $news
  | if $prices == null or $news == null then error("upstream fields missing") else . end
  | [$prices | keys | to_entries[] | select(.key % $count == $shard) | .value] as $mine
  | [ $mine[] as $symbol
      | $prices[$symbol] as $p
      | [range(1; $p | length) | ($p[.] / $p[. - 1] - 1)] as $daily
      | ($daily | add / length) as $mean
      | ($daily | map(. - $mean | . * .) | add / length | sqrt) as $vol
      | ([$news[] | select(.symbol == $symbol) | .sentiment] | if length > 0 then add / length else 0 end) as $sent
      | (($p[-1] / $p[0] - 1) * 100) as $ret
      | { symbol: $symbol,
          first: $p[0], last: $p[-1],
          returnPct: ($ret * 100 | round / 100),
          volatilityPct: ($vol * 10000 | round / 100),
          sentiment: ($sent * 100 | round / 100),
          score: (($ret + 10 * $sent - 100 * $vol) * 100 | round / 100) } ]
  | { shard: $shard,
      symbols: .,
      score: (if length > 0 then (map(.score) | add / length * 100 | round / 100) else 0 end),
      top: (if length > 0 then (max_by(.score) | .symbol) else null end) }
' <<<"$rows")

echo "Shard $SHARD of $SHARD_COUNT ($MAXQ_STEP_ID):"
jq -r '.symbols[] | "  \(.symbol): return \(.returnPct)%, volatility \(.volatilityPct)%, sentiment \(.sentiment), score \(.score)"' <<<"$analysis"

maxq_post_fields "$analysis" >/dev/null
