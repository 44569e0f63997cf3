import { describe, expect, it } from 'vitest'
import {
  decideAttempt,
  decideLostAttempt,
  LOST_WORK_AVAILABLE_AT,
  RETRY_DELAY_CAP_MS,
  retryDelay,
} from '../../db/rules/decide-attempt.js'

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

  it('waits a fixed delay before every retry', () => {
    const at = (retryCount: number) =>
      decideAttempt({
        succeeded: false,
        retryCount,
        maxRetries: 100,
        now: 1_000,
        retryDelayMs: 5_000,
        retryBackoff: 'fixed',
        random: 0.9,
      })
    expect(at(0)).toEqual({ status: 'pending', availableAt: 6_000, retryCount: 1 })
    expect(at(7)).toEqual({ status: 'pending', availableAt: 6_000, retryCount: 8 })
  })

  it('backs off exponentially, jittered by ±20%, capped', () => {
    const at = (retryCount: number, random = 0.5) =>
      decideAttempt({
        succeeded: false,
        retryCount,
        maxRetries: 100,
        now: 0,
        retryDelayMs: 100,
        retryBackoff: 'exponential',
        random,
      })
    expect(at(0)).toMatchObject({ availableAt: 100 })
    expect(at(3)).toMatchObject({ availableAt: 800 })
    expect(at(3, 0)).toMatchObject({ availableAt: 640 })
    expect(at(3, 0.999_999)).toMatchObject({ availableAt: 960 })
    expect(at(30)).toMatchObject({ availableAt: RETRY_DELAY_CAP_MS })
  })

  it('retries at once when no delay is set, as before', () => {
    expect(decideAttempt({ succeeded: false, retryCount: 4, maxRetries: 9, now: 7 })).toMatchObject({
      availableAt: 7,
    })
  })
})

describe('retryDelay', () => {
  it('keeps a base larger than the cap as it is, never growing it', () => {
    const policy = { retryDelayMs: 2 * RETRY_DELAY_CAP_MS, retryBackoff: 'exponential' as const }
    expect(retryDelay(policy, 0)).toBe(2 * RETRY_DELAY_CAP_MS)
    expect(retryDelay(policy, 5)).toBe(2 * RETRY_DELAY_CAP_MS)
  })
})

describe('decideLostAttempt', () => {
  it('re-queues lost work ahead of fresh work until more than the bound were lost', () => {
    expect(decideLostAttempt(0, 3)).toEqual({
      status: 'requeued',
      availableAt: LOST_WORK_AVAILABLE_AT,
      lostAttempts: 1,
    })
    expect(decideLostAttempt(2, 3)).toMatchObject({ status: 'requeued', lostAttempts: 3 })
    expect(decideLostAttempt(3, 3)).toEqual({ status: 'failed', lostAttempts: 4 })
    expect(decideLostAttempt(0, 0)).toEqual({ status: 'failed', lostAttempts: 1 })
  })
})
