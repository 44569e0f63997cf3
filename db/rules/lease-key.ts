// Lease keys name one claimed attempt; see docs/decisions.md ("Leases and fencing").

export type ParsedLease =
  | { kind: 'step'; runId: string; stepId: string; attempt: number }
  | { kind: 'flow'; runId: string; callId: number; attempt: number }
export type StepLease = Extract<ParsedLease, { kind: 'step' }>
export type FlowCallLease = Extract<ParsedLease, { kind: 'flow' }>

export const stepLease = (runId: string, stepId: string, attempt: number): string =>
  `step/${runId}/${stepId}/${attempt}`

export const flowLease = (runId: string, callId: number, attempt: number): string =>
  `flow/${runId}/${callId}/${attempt}`

export function parseLease(lease: string): ParsedLease | null {
  const parts = lease.split('/')
  if (parts.length !== 4) return null
  const [kind, runId, id, attemptText] = parts as [string, string, string, string]
  const attempt = Number(attemptText)
  if (runId === '' || id === '' || !Number.isSafeInteger(attempt) || attempt < 1) return null
  if (kind === 'step') return { kind, runId, stepId: id, attempt }
  const callId = Number(id)
  if (kind === 'flow' && Number.isSafeInteger(callId)) return { kind, runId, callId, attempt }
  return null
}
