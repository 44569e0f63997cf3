# shellcheck shell=bash
# MaxQ helper library for flow.sh and step.sh. Source it with:  . "$MAXQ_LIB"
# Needs bash, curl (7.76+ for --fail-with-body) and jq. Safe under `set -euo pipefail`.
#
# Every call sends JSON with `Content-Type: application/json` and the run's token
# (`Authorization: Bearer $MAXQ_TOKEN`, required when the server sets MAXQ_API_TOKEN), retries transient failures
# (connection refused, a connection broken mid-request, timeouts, 408, 429, 5xx) for up to a
# minute, and on an HTTP error prints the API's
# `{error, code, details}` answer to stderr and returns non-zero, so `set -e` stops the script.
#
#   maxq_schedule <stage> <final:true|false> <steps-json-array>
#       Schedules a stage of the current run; prints the API's answer `{stage, scheduled, steps}`.
#       maxq_schedule fetch false "[$(maxq_step fetch-1 fetch), $(maxq_step fetch-2 fetch)]"
#
#   maxq_step <id> <name> [dependsOn, comma-separated] [maxRetries] [env-json-object]
#       Prints one step definition as compact JSON, to build the array maxq_schedule takes.
#       maxq_step report-1 report "fetch-1,fetch-2" 2 '{"SHARD":"1"}'
#
#   maxq_post_fields <json-object>
#       Merges the object into the current step's fields ($MAXQ_RUN_ID, $MAXQ_STEP_ID).
#       maxq_post_fields "$(jq -n --arg msg "$greeting" '{message: $msg}')"
#
#   maxq_field <stepId> <fieldName>
#       Prints one field of a step of this run: strings raw, anything else as JSON. Prints nothing
#       and returns 1 when the step or the field does not exist.
#
#   maxq_fields <stepId[,stepId...]> [fieldName]
#       Prints the whole `{fields: [{stepId, stepName, stageName, status, fields, completedAt}]}`.
#
#   maxq_log <level> <message>
#       Adds a run log entry (level: debug, info, warn or error) for the current step, or for the
#       flow when called from flow.sh.
#
#   maxq_input [jq-filter]
#       Prints the run's input (the `input` it was triggered with, null when none), or what the jq
#       filter makes of it: strings raw, anything else as compact JSON, one result per line. Use
#       `//` for a default. Fails when the filter does not compile or fails on the input.
#       days=$(maxq_input '.days // 30')
#       maxq_input '.symbols // ["AAPL"] | .[]' | while read -r symbol; do ...; done

# _maxq_curl <curl args...>: curl with the run's token. The header is read from a pipe, not argv,
# where any user of the host could see it with ps.
_maxq_curl() {
  if [ -n "${MAXQ_TOKEN:-}" ]; then
    curl -H @<(printf 'Authorization: Bearer %s\n' "$MAXQ_TOKEN") "$@"
  else
    curl "$@"
  fi
}

# _maxq_request <method> <path> [json-body]: prints the response body; non-zero on failure.
# curl's own --retry does not repeat a request whose connection broke after it was sent (exit 52
# empty reply, 55 send error, 56 receive error: the API restarted under it), so this loop does,
# within the same minute. Every call is safe to repeat: a stage post and a fields post answer the
# same the second time, and a log line may at worst be written twice.
_maxq_request() {
  local method=$1 path=$2 out status deadline=$((SECONDS + 60))
  local -a args=(-sS --fail-with-body --retry 5 --retry-connrefused --retry-max-time 60
    -X "$method" -H 'Content-Type: application/json' -H 'Accept: application/json')
  while :; do
    status=0
    if [ $# -ge 3 ]; then
      # The body goes through stdin: argv is limited in size, and curl keeps it to resend on retry.
      out=$(printf '%s' "$3" | _maxq_curl "${args[@]}" --data-binary @- "${MAXQ_API:?MAXQ_API is not set}$path") || status=$?
    else
      out=$(_maxq_curl "${args[@]}" "${MAXQ_API:?MAXQ_API is not set}$path") || status=$?
    fi
    case $status in
      52 | 55 | 56) if [ "$SECONDS" -lt "$deadline" ]; then sleep 1 && continue; fi ;;
    esac
    break
  done
  if [ "$status" -ne 0 ]; then
    printf 'maxq: %s %s failed: %s\n' "$method" "$path" "$out" >&2
    return "$status"
  fi
  printf '%s\n' "$out"
}

# _maxq_uri <text>: percent-encodes one query parameter value.
_maxq_uri() {
  jq -rn --arg v "$1" '$v | @uri'
}

maxq_schedule() {
  local body
  body=$(jq -cn --arg stage "$1" --argjson final "$2" --argjson steps "$3" \
    '{stage: $stage, final: $final, steps: $steps}') || return
  _maxq_request POST "/runs/${MAXQ_RUN_ID:?MAXQ_RUN_ID is not set}/steps" "$body"
}

maxq_step() {
  jq -cn --arg id "$1" --arg name "$2" --arg deps "${3:-}" --argjson retries "${4:-0}" \
    --argjson env "${5:-"{}"}" \
    '{id: $id, name: $name, dependsOn: ($deps | split(",") | map(select(length > 0))), maxRetries: $retries}
     + (if $env == {} then {} else {env: $env} end)'
}

maxq_post_fields() {
  local body
  body=$(jq -cn --argjson fields "$1" '{fields: $fields}') || return
  _maxq_request POST "/runs/${MAXQ_RUN_ID:?MAXQ_RUN_ID is not set}/steps/${MAXQ_STEP_ID:?MAXQ_STEP_ID is not set}/fields" \
    "$body" >/dev/null
}

maxq_field() {
  local answer
  answer=$(_maxq_request GET "/runs/${MAXQ_RUN_ID:?MAXQ_RUN_ID is not set}/fields?stepId=$(_maxq_uri "$1")&fieldName=$(_maxq_uri "$2")") ||
    return
  printf '%s' "$answer" | jq -r --arg f "$2" \
    '.fields[0].fields // {} | if has($f) then .[$f] else error("no field") end' 2>/dev/null || return 1
}

maxq_fields() {
  local query
  query="stepId=$(_maxq_uri "$1")"
  if [ -n "${2:-}" ]; then query="$query&fieldName=$(_maxq_uri "$2")"; fi
  _maxq_request GET "/runs/${MAXQ_RUN_ID:?MAXQ_RUN_ID is not set}/fields?$query"
}

maxq_log() {
  local type=flow id=${MAXQ_FLOW_NAME:-} body
  if [ -n "${MAXQ_STEP_ID:-}" ]; then type=step id=$MAXQ_STEP_ID; fi
  body=$(jq -cn --arg level "$1" --arg message "$2" --arg type "$type" --arg id "$id" \
    '{level: $level, message: $message, entityType: $type, entityId: $id}') || return
  _maxq_request POST "/runs/${MAXQ_RUN_ID:?MAXQ_RUN_ID is not set}/logs" "$body" >/dev/null
}

maxq_input() {
  local answer
  answer=$(_maxq_request GET "/runs/${MAXQ_RUN_ID:?MAXQ_RUN_ID is not set}") || return
  # The filter is the script's own jq code, applied to the run's input; on lines of its own, so a
  # trailing `# comment` in it cannot swallow the closing parenthesis.
  printf '%s' "$answer" | jq -rc ".input | (
${1:-.}
)"
}
