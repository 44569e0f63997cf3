#!/bin/bash
# nightly_digest: a scheduled flow. flow.json beside this script starts it every night at 03:00
# Berlin time once "enabled" is true there; until then it runs when triggered like any flow.
# One final stage with one step; the run's metadata.trigger says whether a schedule or the API
# started it.
set -euo pipefail
. "$MAXQ_LIB"

if [ -z "${MAXQ_COMPLETED_STAGE:-}" ] && [ -z "${MAXQ_FAILED_STAGE:-}" ]; then
  maxq_schedule digest true "[$(maxq_step digest digest)]"
fi
