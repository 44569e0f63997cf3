// Which ways of starting a script this test run can use and uses.
//
// The posix_spawn addon (runtime/native) is built by `npm run build` on Linux with make, a C
// compiler and python3; elsewhere MaxQ starts scripts with node:child_process, and the tests that
// need the addon are skipped with NATIVE_SKIP_NOTE as the reason (skipWithoutNative).
//
// MAXQ_SPAWNER is the one MaxQ variable the suite takes from its environment: the servers of
// test/support/start-server.ts get it (cleanEnv keeps it), and TEST_SPAWNER is what it resolves to.
// CI runs the runtime and e2e tests a second time with MAXQ_SPAWNER=child_process.

import {
  resolveSpawner,
  SPAWNER_CHOICES,
  type Spawner,
  type SpawnerChoice,
} from '../../runtime/spawn-detached.js'
import { nativeSpawnUnavailable } from '../../runtime/spawn-native.js'

const unavailable = nativeSpawnUnavailable()

/** Null when the posix_spawn addon loads here; else why its tests are skipped. */
export const NATIVE_SKIP_NOTE: string | null =
  unavailable === null
    ? null
    : `posix_spawn addon unavailable (${unavailable}); npm run build compiles it on Linux with make, a C compiler and python3`

/** The spawner that MAXQ_SPAWNER (auto when unset) gives, as `maxq` would resolve it. */
export const TEST_SPAWNER: Spawner = resolveSpawner(spawnerChoice(process.env.MAXQ_SPAWNER))

function spawnerChoice(value: string | undefined): SpawnerChoice {
  const choice = value?.trim() || 'auto'
  if (!(SPAWNER_CHOICES as readonly string[]).includes(choice)) {
    throw new Error(`maxq tests: invalid MAXQ_SPAWNER: expected ${SPAWNER_CHOICES.join(', ')}`)
  }
  return choice as SpawnerChoice
}

/** Skips the current test (call it first, or in a beforeEach) when it needs the addon and it is unavailable. */
export function skipWithoutNative(context: { skip(condition: boolean, note?: string): void }): void {
  context.skip(NATIVE_SKIP_NOTE !== null, NATIVE_SKIP_NOTE ?? undefined)
}

/** The same, for a test that runs with a given spawner. */
export function skipUnlessSpawnerWorks(
  context: { skip(condition: boolean, note?: string): void },
  spawner: Spawner,
): void {
  if (spawner === 'posix_spawn') skipWithoutNative(context)
}
