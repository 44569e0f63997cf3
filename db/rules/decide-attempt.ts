// What a finished attempt means for its step. Pure, so it is tested on plain values.

export const RETRY_BACKOFFS = ['fixed', 'exponential'] as const
export type RetryBackoff = (typeof RETRY_BACKOFFS)[number]

/** MAXQ_MAX_LOST_ATTEMPTS's default: lost attempts of one step or flow call re-queued before it fails. */
export const DEFAULT_MAX_LOST_ATTEMPTS = 3

/** The largest retryDelaySeconds a step (or MAXQ_RETRY_DELAY_SECONDS) may ask for: one day. */
export const MAX_RETRY_DELAY_SECONDS = 86_400

/** An exponential delay stops growing here (a step's own larger fixed delay is kept as it is). */
export const RETRY_DELAY_CAP_MS = 300_000
/** An exponential delay lands anywhere within ±20% of its nominal value. */
export const RETRY_JITTER = 0.2
/**
 * Lost work's `available_at`: earlier than any fresh row's, so the claims (ORDER BY available_at,
 * id, read from their partial index) take re-queued lost work first, at no extra cost.
 */
export const LOST_WORK_AVAILABLE_AT = 0

export interface RetryPolicy {
  /** The first retry's delay; 0 retries at once. */
  retryDelayMs: number
  retryBackoff: RetryBackoff
}

/** MAXQ_RETRY_DELAY_SECONDS and MAXQ_RETRY_BACKOFF unset: retries at once, as before issue 17. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { retryDelayMs: 0, retryBackoff: 'exponential' }

export type AttemptDecision =
  | { status: 'completed' }
  | { status: 'pending'; availableAt: number; retryCount: number }
  | { status: 'failed' }

export interface FinishedAttempt extends Partial<RetryPolicy> {
  succeeded: boolean
  retryCount: number
  maxRetries: number
  now: number
  /** In [0, 1): where this retry's delay lands in the jitter band (the caller's Math.random()). */
  random?: number
}

/**
 * The delay before retry number `retryCount + 1`. Fixed: the delay itself. Exponential:
 * delay × 2^retryCount, capped at RETRY_DELAY_CAP_MS (or the delay, when that is larger), then
 * spread by ±RETRY_JITTER so that steps failing together do not all come back together.
 */
export function retryDelay(policy: RetryPolicy, retryCount: number, random = 0.5): number {
  const base = Math.max(0, policy.retryDelayMs)
  if (policy.retryBackoff === 'fixed' || base === 0) return base
  const nominal = Math.min(Math.max(base, RETRY_DELAY_CAP_MS), base * 2 ** retryCount)
  return Math.round(nominal * (1 - RETRY_JITTER + 2 * RETRY_JITTER * random))
}

/** A failed attempt is retried while retryCount < maxRetries, after the step's retry delay. */
export function decideAttempt(attempt: FinishedAttempt): AttemptDecision {
  if (attempt.succeeded) return { status: 'completed' }
  if (attempt.retryCount >= attempt.maxRetries) return { status: 'failed' }
  const policy = {
    retryDelayMs: attempt.retryDelayMs ?? 0,
    retryBackoff: attempt.retryBackoff ?? 'fixed',
  }
  const delay = retryDelay(policy, attempt.retryCount, attempt.random)
  return { status: 'pending', availableAt: attempt.now + delay, retryCount: attempt.retryCount + 1 }
}

export type LostAttemptDecision =
  | { status: 'requeued'; availableAt: number; lostAttempts: number }
  | { status: 'failed'; lostAttempts: number }

/**
 * An attempt whose lease expired (its supervisor or host died) is not the script's failure: it
 * spends no retry and is queued again, ahead of fresh work, until `maxLostAttempts` attempts of the
 * same work were lost; the one after that fails it (a machine that keeps dying on it, or a script
 * that takes its supervisor down).
 */
export function decideLostAttempt(lostBefore: number, maxLostAttempts: number): LostAttemptDecision {
  const lostAttempts = lostBefore + 1
  if (lostAttempts > maxLostAttempts) return { status: 'failed', lostAttempts }
  return { status: 'requeued', availableAt: LOST_WORK_AVAILABLE_AT, lostAttempts }
}
