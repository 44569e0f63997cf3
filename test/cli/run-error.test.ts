// Issue 18: `maxq show` says why a run failed in words, most of all a flow whose stage post was
// refused (a typo'd step name), not as a blob of JSON.

import { describe, expect, it } from 'vitest'
import { runErrorText } from '../../cli/client/run-error.js'

describe('runErrorText', () => {
  it('says what a refused stage post was refused for', () => {
    expect(
      runErrorText({
        reason: 'flow_failed',
        exitCode: 22,
        signal: null,
        timedOut: false,
        stderr: 'curl: (22) The requested URL returned error: 400\n',
        refused: {
          status: 400,
          code: 'STEP_NOT_FOUND',
          error: 'Step analyse cannot be run: steps/analyse/step.sh does not exist',
        },
      }),
    ).toBe(
      'flow.sh exited 22: its stage post was refused: 400 STEP_NOT_FOUND: Step analyse cannot be run: steps/analyse/step.sh does not exist',
    )
    expect(
      runErrorText({ reason: 'schedule_refused', status: 400, code: 'VALIDATION_FAILED', error: 'bad' }),
    ).toBe('flow.sh scheduled nothing: its stage post was refused: 400 VALIDATION_FAILED: bad')
  })

  it('says how flow.sh ended otherwise, with its last stderr line', () => {
    expect(runErrorText({ reason: 'flow_failed', exitCode: 1, stderr: 'one\ntwo: no such file\n\n' })).toBe(
      'flow.sh exited 1: two: no such file',
    )
    expect(runErrorText({ reason: 'flow_failed', exitCode: null, signal: 'SIGKILL' })).toBe(
      'flow.sh was killed by SIGKILL',
    )
    expect(runErrorText({ reason: 'flow_failed', exitCode: null, timedOut: true })).toBe('flow.sh timed out')
  })

  it('names a failed stage and an abort, and shows any other shape as JSON', () => {
    expect(runErrorText({ reason: 'stage_failed', stage: 'fetch' })).toBe('stage fetch failed')
    expect(runErrorText({ reason: 'aborted' })).toBe('aborted')
    expect(runErrorText({ reason: 'something_new', n: 1 })).toBe('{"reason":"something_new","n":1}')
    expect(runErrorText(null)).toBe('')
  })
})
