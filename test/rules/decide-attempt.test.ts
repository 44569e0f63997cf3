import { describe, expect, it } from 'vitest'
import { decideAttempt } from '../../db/rules/decide-attempt.js'

describe('decideAttempt', () => {
  it('completes on success whatever the retries', () => {
    expect(decideAttempt({ succeeded: true, retryCount: 5, maxRetries: 0, now: 10 })).toEqual({
      status: 'completed',
    })
  })

  it('retries while retryCount < maxRetries, then fails', () => {
    expect(decideAttempt({ succeeded: false, retryCount: 0, maxRetries: 2, now: 10 })).toEqual({
      status: 'pending',
      availableAt: 10,
      retryCount: 1,
    })
    expect(decideAttempt({ succeeded: false, retryCount: 1, maxRetries: 2, now: 10 })).toMatchObject({
      status: 'pending',
      retryCount: 2,
    })
    expect(decideAttempt({ succeeded: false, retryCount: 2, maxRetries: 2, now: 10 })).toEqual({
      status: 'failed',
    })
    expect(decideAttempt({ succeeded: false, retryCount: 0, maxRetries: 0, now: 10 })).toEqual({
      status: 'failed',
    })
  })

  it('backs off exponentially, capped', () => {
    const at = (retryCount: number) =>
      decideAttempt({ succeeded: false, retryCount, maxRetries: 100, now: 0, backoffBaseMs: 100 })
    expect(at(0)).toMatchObject({ availableAt: 100 })
    expect(at(3)).toMatchObject({ availableAt: 800 })
    expect(at(30)).toMatchObject({ availableAt: 30_000 })
  })
})
