// The parts of the API's answers the CLI reads (the API sends more; see README "HTTP API").

export interface RunView {
  id: string
  flowName: string
  status: string
  error: unknown
  terminationReason: string | null
  createdAt: number
  startedAt: number | null
  completedAt: number | null
  stages?: Array<{ name: string; status: string; final: boolean }>
  waitingFor?: unknown
}

export interface StepView {
  id: string
  name: string
  stage: string
  status: string
  attempt: number
  retryCount: number
  maxRetries: number
  exitCode: number | null
  terminationReason: string | null
  error: unknown
  dependsOn: string[]
  startedAt: number | null
  completedAt: number | null
  stdout: string | null
  stderr: string | null
  waitingFor?: unknown
}

export interface LogView {
  id: string
  level: string
  entityType: string
  entityId: string | null
  message: string
  createdAt: number
}

export interface FlowView {
  name: string
  steps: string[]
  usable?: boolean
  problem?: { reason: string } | null
  problems?: Array<{ step?: string; reason: string }>
}
