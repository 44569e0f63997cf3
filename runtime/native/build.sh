#!/usr/bin/env bash
# Builds the posix_spawn addon (spawn.c) with the node-gyp that npm bundles; run by `npm run build`.
# MaxQ runs without it, starting scripts with node:child_process (slower, see docs/performance.md),
# so a machine without a C toolchain gets a warning rather than a failed install.
# MAXQ_REQUIRE_NATIVE=1 turns the warning into an error (CI sets it).
set -u
cd "$(dirname "$0")"
addon=build/Release/maxq_spawn.node

give_up() {
  echo "maxq: $1; scripts will be started with node:child_process" >&2
  [ "${MAXQ_REQUIRE_NATIVE:-0}" = 1 ] && exit 1
  exit 0
}

[ "$(uname -s)" = Linux ] || give_up "the posix_spawn addon is built on Linux only"
[ -f "$addon" ] && [ "$addon" -nt spawn.c ] && [ "$addon" -nt binding.gyp ] && exit 0
command -v node-gyp >/dev/null || give_up "node-gyp not found (run this through npm run build)"
if ! node-gyp rebuild >build.log 2>&1; then
  tail -n 20 build.log >&2
  give_up "building runtime/native/spawn.c failed (full log: runtime/native/build.log)"
fi
rm -f build.log
