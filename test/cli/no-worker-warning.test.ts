// Issue 18: `maxq serve` with open runs and no live worker warns how to start one, at most every
// few minutes, and says when a worker appears again.

import { describe, expect, it } from 'vitest'
import { NO_WORKER_WARN_AFTER_MS, NoWorkerWarning, REPEAT_WARN_MS } from '../../cli/no-worker-warning.js'

describe('NoWorkerWarning', () => {
  it('warns after a while of open runs with no worker, repeats rarely, and says when one is back', () => {
    const warning = new NoWorkerWarning()
    const none = { openRuns: 2, liveWorkers: 0 }
    expect(warning.observe(0, none)).toBeNull()
    expect(warning.observe(NO_WORKER_WARN_AFTER_MS - 1, none)).toBeNull()
    const said = warning.observe(NO_WORKER_WARN_AFTER_MS, none)
    expect(said?.level).toBe('warn')
    expect(said?.message).toContain('maxq tick --watch')
    expect(said?.message).toContain('Running ticks from cron or systemd')
    expect(warning.observe(NO_WORKER_WARN_AFTER_MS + REPEAT_WARN_MS - 1, none)).toBeNull()
    expect(warning.observe(NO_WORKER_WARN_AFTER_MS + REPEAT_WARN_MS, none)?.level).toBe('warn')
    expect(
      warning.observe(NO_WORKER_WARN_AFTER_MS + REPEAT_WARN_MS + 1, { openRuns: 2, liveWorkers: 1 }),
    ).toEqual({
      level: 'info',
      message: 'a worker is alive again (1 live): open runs will start',
    })
    // Back to normal: nothing more to say.
    expect(warning.observe(REPEAT_WARN_MS * 3, { openRuns: 2, liveWorkers: 1 })).toBeNull()
  })

  it('says nothing without open runs, and starts counting again when they come', () => {
    const warning = new NoWorkerWarning()
    expect(warning.observe(0, { openRuns: 0, liveWorkers: 0 })).toBeNull()
    expect(warning.observe(NO_WORKER_WARN_AFTER_MS * 2, { openRuns: 0, liveWorkers: 0 })).toBeNull()
    expect(warning.observe(NO_WORKER_WARN_AFTER_MS * 3, { openRuns: 1, liveWorkers: 0 })).toBeNull()
    expect(warning.observe(NO_WORKER_WARN_AFTER_MS * 4, { openRuns: 1, liveWorkers: 0 })?.message).toMatch(
      /^a run is waiting and no worker has been seen for 30 s/,
    )
  })
})
