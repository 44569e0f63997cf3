// A failed run's `error` (the API's JSON) in words a person acts on: what failed, and for a flow
// that failed because a stage post was refused, what was refused and why (a typo'd step name most
// often). Unknown shapes are shown as the JSON they are.

interface Refusal {
  status?: number
  code?: string
  error?: string
}

interface RunError {
  reason?: string
  exitCode?: number | null
  signal?: string | null
  timedOut?: boolean
  stderr?: string
  refused?: Refusal
  stage?: string
  code?: string
  error?: string
  status?: number
}

function refusalText(refused: Refusal): string {
  const what = [refused.status, refused.code].filter((part) => part !== undefined).join(' ')
  return `${what}${refused.error ? `: ${refused.error}` : ''}`
}

function lastLine(text: string | undefined): string | null {
  const lines = (text ?? '').split('\n').filter((line) => line.trim() !== '')
  return lines.at(-1) ?? null
}

export function runErrorText(error: unknown): string {
  if (error === null || error === undefined) return ''
  if (typeof error !== 'object' || Array.isArray(error)) return JSON.stringify(error)
  const e = error as RunError
  switch (e.reason) {
    case 'flow_failed': {
      const how = e.timedOut
        ? 'timed out'
        : e.exitCode === null || e.exitCode === undefined
          ? `was killed${e.signal ? ` by ${e.signal}` : ''}`
          : `exited ${e.exitCode}`
      if (e.refused !== undefined)
        return `flow.sh ${how}: its stage post was refused: ${refusalText(e.refused)}`
      const stderr = lastLine(e.stderr)
      return `flow.sh ${how}${stderr === null ? '' : `: ${stderr}`}`
    }
    case 'schedule_refused':
      return `flow.sh scheduled nothing: its stage post was refused: ${refusalText(e)}`
    case 'stage_failed':
      return `stage ${e.stage ?? '?'} failed`
    case 'aborted':
      return 'aborted'
    default:
      return JSON.stringify(error)
  }
}
