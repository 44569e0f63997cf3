// Starts a script as the leader of its own process group, so that everything it starts (pipelines,
// background jobs) can be signalled at once, and so that a Ctrl-C or SIGTERM aimed at the parent's
// group does not reach it. The script is executed directly: it is executable and has a shebang.
//
// Two ways to start it, same result: MaxQ's posix_spawn addon (built by `npm run build`; no fork of
// the server) and node:child_process (always there). MAXQ_SPAWNER picks; by default the addon when
// it loads.

import type { DetachedProcess, SpawnOptions } from './detached-process.js'
import { spawnWithChildProcess } from './spawn-child-process.js'
import { nativeSpawnUnavailable, spawnNative } from './spawn-native.js'

export type { DetachedProcess, ScriptExit, SpawnOptions } from './detached-process.js'

export type Spawner = 'posix_spawn' | 'child_process'
export const SPAWNER_CHOICES = ['auto', 'posix_spawn', 'child_process'] as const
export type SpawnerChoice = (typeof SPAWNER_CHOICES)[number]

/** The spawner to use for a choice; throws when posix_spawn is asked for and cannot load. */
export function resolveSpawner(choice: SpawnerChoice): Spawner {
  if (choice === 'child_process') return choice
  const unavailable = nativeSpawnUnavailable()
  if (unavailable === null) return 'posix_spawn'
  if (choice === 'posix_spawn') throw new Error(unavailable)
  return 'child_process'
}

/**
 * Never throws for a spawner that resolveSpawner gave (posix_spawn throws if the addon does not
 * load): a script that cannot be started resolves `exited` with code 127 or 126.
 */
export function spawnDetached(opts: SpawnOptions, spawner: Spawner): DetachedProcess {
  return spawner === 'posix_spawn' ? spawnNative(opts) : spawnWithChildProcess(opts)
}

/**
 * Sends a signal to a whole process group; false when the group no longer exists.
 * Signal 0 only tests whether it exists.
 */
export function killGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal)
    return true
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined
    // EPERM: the group exists but is not ours to signal; nothing more can be done from here.
    return code === 'EPERM'
  }
}
