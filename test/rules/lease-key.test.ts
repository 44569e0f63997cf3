import { describe, expect, it } from 'vitest'
import { flowLease, parseLease, stepLease } from '../../db/rules/lease-key.js'

describe('lease keys', () => {
  it('round-trip step and flow leases', () => {
    expect(parseLease(stepLease('run-1', 'step_a', 3))).toEqual({
      kind: 'step',
      runId: 'run-1',
      stepId: 'step_a',
      attempt: 3,
    })
    expect(parseLease(flowLease('run-1', 42, 1))).toEqual({
      kind: 'flow',
      runId: 'run-1',
      callId: 42,
      attempt: 1,
    })
  })

  it('reject anything else', () => {
    for (const bad of [
      '',
      'step/r/s',
      'step/r/s/0',
      'step/r/s/x',
      'flow/r/abc/1',
      'job/r/s/1',
      'step//s/1',
      'step/r/s/1/extra',
    ]) {
      expect(parseLease(bad)).toBeNull()
    }
  })
})
