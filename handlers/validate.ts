// Validation middleware over valibot's safeParse. The typed output is stored with
// `c.req.addValidatedData`, so a handler reads it fully typed with `c.req.valid('param' | 'query' |
// 'json')`. A failure throws ValiError, which onError turns into 400 VALIDATION_FAILED.
//
// Why not hono's `validator('json', …)`: it parses the body only when the Content-Type says JSON and
// otherwise hands the schema `{}`. `curl -d` sends application/x-www-form-urlencoded, so a flow that
// forgot the header would get a confusing VALIDATION_FAILED. `body` reads JSON under the types in
// handlers/content-type.ts and refuses the rest with 415.

import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import * as v from 'valibot'
import type { AppEnv } from './app-env.js'
import { checkBodyType } from './content-type.js'
import { issueFields, validationFailed, type InvalidField } from './errors.js'
import { parseJsonBody } from './parse-json-body.js'
import { readBody } from './read-body.js'

/** A schema whose output is an object: what params, query strings and our JSON bodies are. */
type ObjectSchema = v.GenericSchema<unknown, object>

type Validated<Target extends string, S extends ObjectSchema> = {
  in: { [K in Target]: v.InferInput<S> }
  out: { [K in Target]: v.InferOutput<S> }
}

function check<S extends ObjectSchema>(schema: S, value: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, value)
  if (!result.success) throw new v.ValiError(result.issues)
  return result.output
}

export function params<S extends ObjectSchema>(schema: S) {
  return createMiddleware<AppEnv, string, Validated<'param', S>>(async (c, next) => {
    c.req.addValidatedData('param', check(schema, c.req.param()))
    await next()
  })
}

/** A key given once is a string, a repeated key (`?stepId=a&stepId=b`) is a string array. */
export function query<S extends ObjectSchema>(schema: S) {
  return createMiddleware<AppEnv, string, Validated<'query', S>>(async (c, next) => {
    const raw: Record<string, string | string[]> = {}
    for (const [key, values] of Object.entries(c.req.queries())) {
      raw[key] = values.length === 1 && values[0] !== undefined ? values[0] : values
    }
    c.req.addValidatedData('query', check(schema, raw))
    await next()
  })
}

export interface BodyOptions {
  /** Which limit applies: MAXQ_MAX_BODY_BYTES (the default), MAXQ_MAX_FIELDS_BYTES, or bytes. */
  limit?: 'body' | 'fields' | number
  /**
   * More problems of a body the schema refused, answered in the same 400, so that a script's author
   * learns every mistake of a request at once rather than one per try.
   */
  moreProblems?: (c: Context<AppEnv>, value: Record<string, unknown>) => Promise<InvalidField[]>
}

/**
 * Parses the body as JSON (see handlers/parse-json-body.ts for what is refused); an empty body is
 * `{}`, a non-object is a 400.
 */
export function body<S extends ObjectSchema>(schema: S, options: BodyOptions = {}) {
  return createMiddleware<AppEnv, string, Validated<'json', S>>(async (c, next) => {
    const wrongType = checkBodyType(c.req.header('content-type'), c.req.header('content-encoding'))
    if (wrongType) throw wrongType
    const maxBytes =
      typeof options.limit === 'number'
        ? options.limit
        : options.limit === 'fields'
          ? c.get('maxFieldsBytes')
          : c.get('maxBodyBytes')
    const value = parseJsonBody(await readBody(c, maxBytes))
    // valibot's object() also accepts arrays; a body is always a JSON object.
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw validationFailed([{ path: '', message: 'Request body must be a JSON object' }])
    }
    const result = v.safeParse(schema, value)
    if (!result.success) {
      const more = options.moreProblems ? await options.moreProblems(c, value as Record<string, unknown>) : []
      throw validationFailed([...issueFields(result.issues), ...more])
    }
    c.req.addValidatedData('json', result.output)
    await next()
  })
}
