// Retention (MAXQ_RETENTION_DAYS): deletes finished runs that ended more than the retention ago,
// one bounded batch (one DELETE statement, read off the finished-runs index) at a time, so a
// sweep never holds locks for long whatever the backlog. A long-running worker sweeps at most
// once every `everyMs` (a minute) on its own timer, apart from its 200 ms ticks, so a backlog
// drains 100 runs a minute without crowding out claims. A one-shot `maxq tick` (cron, a systemd timer) sweeps one batch per tick. Several tick
// processes may sweep at once: each batch is one statement, and a run deleted by one is simply
// not found by the other.

import type { WorkerStore } from '../db/store.js'

/** Runs one sweep deletes at most. */
export const RETENTION_BATCH = 100
/** Least time between two sweeps of a long-running worker. */
export const RETENTION_EVERY_MS = 60_000

const DAY_MS = 86_400_000

/** One batch: deletes up to `limit` runs that finished before now − retentionDays; answers how many. */
export async function sweepRetention(
  store: Pick<WorkerStore, 'pruneRuns'>,
  retentionDays: number,
  now: number,
  limit = RETENTION_BATCH,
): Promise<number> {
  const { runIds } = await store.pruneRuns({
    finishedBefore: now - retentionDays * DAY_MS,
    limit,
    dryRun: false,
  })
  return runIds.length
}

export interface RetentionTimerOptions {
  store: Pick<WorkerStore, 'pruneRuns'>
  retentionDays: number
  now: () => number
  everyMs?: number
  onSwept?: (deleted: number) => void
  onError?: (error: unknown) => void
}

/** A long-running worker's sweep: one batch now, then one every `everyMs` (unref'd: never keeps a process up). */
export function startRetentionTimer(opts: RetentionTimerOptions): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve()
  let stopped = false
  const sweep = (): void => {
    running = sweepRetention(opts.store, opts.retentionDays, opts.now()).then(
      (deleted) => {
        if (deleted > 0) opts.onSwept?.(deleted)
      },
      (error: unknown) => opts.onError?.(error),
    )
  }
  sweep()
  const timer = setInterval(() => {
    if (!stopped) void running.then(sweep)
  }, opts.everyMs ?? RETENTION_EVERY_MS)
  timer.unref()
  return {
    async stop() {
      stopped = true
      clearInterval(timer)
      await running
    },
  }
}
