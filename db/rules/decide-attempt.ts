// What a finished attempt means for its step. Pure, so it is tested on plain values.

export const RETRY_BACKOFF_BASE_MS = 0
export const RETRY_BACKOFF_MAX_MS = 30_000

export type AttemptDecision =
  | { status: 'completed' }
  | { status: 'pending'; availableAt: number; retryCount: number }
  | { status: 'failed' }

export interface FinishedAttempt {
  succeeded: boolean
  retryCount: number
  maxRetries: number
  now: number
  backoffBaseMs?: number
}

/** A failed attempt is retried while retryCount < maxRetries, after an exponential backoff. */
export function decideAttempt(attempt: FinishedAttempt): AttemptDecision {
  if (attempt.succeeded) return { status: 'completed' }
  if (attempt.retryCount >= attempt.maxRetries) return { status: 'failed' }
  const base = attempt.backoffBaseMs ?? RETRY_BACKOFF_BASE_MS
  const delay = Math.min(RETRY_BACKOFF_MAX_MS, base * 2 ** attempt.retryCount)
  return { status: 'pending', availableAt: attempt.now + delay, retryCount: attempt.retryCount + 1 }
}
