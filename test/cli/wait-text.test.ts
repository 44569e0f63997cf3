// Issue 18: `maxq show` prints a pending step's `waitingFor` in one line a person reads.

import { describe, expect, it } from 'vitest'
import { waitingText } from '../../cli/client/format.js'

describe('waitingText', () => {
  it('reads each reason the API gives', () => {
    expect(waitingText(null)).toBe('')
    expect(waitingText({ reason: 'no_worker' })).toBe(
      'no_worker (no worker is alive; start one: maxq tick --watch)',
    )
    expect(waitingText({ reason: 'dependencies', steps: ['a', 'b'] })).toBe('dependencies (steps: a, b)')
    expect(waitingText({ reason: 'earlier_stage', stage: 'fetch' })).toBe('earlier_stage (stage: fetch)')
    expect(waitingText({ reason: 'retry_delay', until: Date.UTC(2026, 11, 7, 2, 30) })).toBe(
      'retry_delay (until: 2026-12-07 02:30:00Z)',
    )
  })
})
