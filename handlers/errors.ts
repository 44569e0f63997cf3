// Every error response is made here and has one shape: `{error, code, details}`. Handlers throw
// ApiError (or let a validator throw ValiError); onError turns whatever was thrown into that shape.
// Anything unexpected becomes a logged 500 whose body never carries a stack trace.

import type { ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import * as v from 'valibot'
import type { ErrorCode, Json } from '../db/types.js'
import type { AppEnv } from './app-env.js'
import { reportRefusal } from './report-refusal.js'

export type ApiErrorCode =
  | ErrorCode
  | 'VALIDATION_FAILED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'INVALID_JSON'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'MALFORMED_REQUEST'
  | 'HEADERS_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'NOT_FOUND'
  | 'INVALID_STEP_ID'
  | 'INVALID_STEP_NAME'
  | 'FLOW_NOT_USABLE'
  | 'DATABASE_UNAVAILABLE'
  | 'HTTP_ERROR'
  | 'INTERNAL_ERROR'

export class ApiError extends Error {
  readonly status: ContentfulStatusCode
  readonly code: ApiErrorCode
  readonly details: Json

  constructor(status: ContentfulStatusCode, code: ApiErrorCode, message: string, details: Json = null) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
  }
}

export interface ErrorBody {
  error: string
  code: ApiErrorCode
  details: Json
}

export function errorBody(error: ApiError): ErrorBody {
  return { error: error.message, code: error.code, details: error.details }
}

const OUTCOME_ERRORS: Record<ErrorCode, { status: ContentfulStatusCode; message: string }> = {
  RUN_NOT_FOUND: { status: 404, message: 'Run not found' },
  FLOW_NOT_FOUND: { status: 404, message: 'Flow not found' },
  LEASE_NOT_FOUND: { status: 404, message: 'Lease not found' },
  // 400, not 404: here the step id is input to an action (docs/decisions.md, "Status codes").
  STEP_NOT_FOUND: { status: 400, message: 'Step not found in this run' },
  DUPLICATE_STEP_ID: { status: 400, message: 'Step id is already used in this run' },
  UNKNOWN_DEPENDENCY: { status: 400, message: 'dependsOn names a step that does not exist in this run' },
  DEPENDENCY_CYCLE: { status: 400, message: 'dependsOn forms a cycle' },
  RUN_COMPLETED: { status: 400, message: 'Run has completed; there is nothing to retry' },
  STAGE_CONFLICT: { status: 409, message: 'Stage was already scheduled with different step ids' },
  RUN_NOT_ACTIVE: { status: 409, message: 'Run has ended (details.status says how); it takes no new stages' },
  RUN_STILL_RUNNING: { status: 409, message: 'Run is still running' },
  RUN_NOT_FINISHED: { status: 409, message: 'Run has not finished; abort it first' },
  STEP_NOT_FAILED: { status: 409, message: 'Step has not failed' },
  INVALID_STATE: { status: 409, message: 'Run or step is not in a state that allows this' },
}

/**
 * Maps a store failure to its HTTP error. `overrides` changes the status where one endpoint
 * differs from the rest (GET of a single step answers STEP_NOT_FOUND with 404).
 */
export function apiErrorFromOutcome(
  code: ErrorCode,
  details: Json = null,
  overrides: Partial<Record<ErrorCode, ContentfulStatusCode>> = {},
): ApiError {
  const known = OUTCOME_ERRORS[code]
  return new ApiError(overrides[code] ?? known.status, code, known.message, details)
}

// A type alias, not an interface, so that it is assignable to Json.
export type InvalidField = {
  /** Dot path into the params, query or body; '' for the value as a whole. */
  path: string
  message: string
}

/** valibot's issues as the `details` of a VALIDATION_FAILED. */
export function issueFields(issues: readonly v.BaseIssue<unknown>[]): InvalidField[] {
  return issues.map((issue) => ({ path: v.getDotPath(issue) ?? '', message: issue.message }))
}

export function validationFailed(details: InvalidField[]): ApiError {
  const first = details[0]
  const where = first && first.path !== '' ? `${first.path}: ` : ''
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : ''
  return new ApiError(
    400,
    'VALIDATION_FAILED',
    `Invalid request: ${where}${first?.message ?? ''}${more}`,
    details,
  )
}

export const invalidJson = (reason: string): ApiError =>
  new ApiError(400, 'INVALID_JSON', 'Request body is not valid JSON', { reason })

export const payloadTooLarge = (maxBytes: number): ApiError =>
  new ApiError(413, 'PAYLOAD_TOO_LARGE', `Request body is larger than ${maxBytes} bytes`, { maxBytes })

/** Converts what was thrown to an ApiError, or null when it is unexpected (a 500). */
function knownError(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err
  if (v.isValiError(err)) return validationFailed(issueFields(err.issues))
  if (err instanceof HTTPException) {
    // Hono's own json validator and bodyLimit throw these; keep our codes for them.
    if (err.status === 413) return new ApiError(413, 'PAYLOAD_TOO_LARGE', 'Request body is too large')
    if (err.status === 400 && /json/i.test(err.message)) return invalidJson(err.message)
    if (err.status < 500) return new ApiError(err.status, 'HTTP_ERROR', err.message || 'Request failed')
  }
  return null
}

export function handleError(logger: (line: string) => void): ErrorHandler<AppEnv> {
  return async (err, c) => {
    const known = knownError(err)
    if (known) {
      await reportRefusal(c, known, logger)
      return c.json(errorBody(known), known.status)
    }
    logger(`${c.req.method} ${c.req.path} failed: ${err.stack ?? String(err)}`)
    return c.json(errorBody(new ApiError(500, 'INTERNAL_ERROR', 'Internal server error')), 500)
  }
}

export function handleNotFound(logger: (line: string) => void): NotFoundHandler<AppEnv> {
  return async (c) => {
    const error = new ApiError(404, 'NOT_FOUND', `No route for ${c.req.method} ${c.req.path}`)
    await reportRefusal(c, error, logger)
    return c.json(errorBody(error), 404)
  }
}
