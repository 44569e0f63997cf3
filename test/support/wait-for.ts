// Polls a condition instead of sleeping: resolves with its first truthy value, or rejects with
// `message` once timeoutMs has passed. A condition that throws counts as not yet true.

export interface WaitForOptions {
  timeoutMs?: number
  intervalMs?: number
  message?: string
}

export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitForOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000
  const intervalMs = opts.intervalMs ?? 20
  const deadline = Date.now() + timeoutMs
  let lastError: unknown = null
  for (;;) {
    try {
      const value = await fn()
      if (value) return value
      lastError = null
    } catch (error) {
      lastError = error
    }
    if (Date.now() >= deadline) {
      const message = opts.message ?? `waitFor: condition not met within ${timeoutMs} ms`
      throw new Error(lastError === null ? message : `${message} (last error: ${String(lastError)})`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
