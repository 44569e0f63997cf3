// Validation middleware over valibot's safeParse. The typed output is stored with
// `c.req.addValidatedData`, so a handler reads it fully typed with `c.req.valid('param' | 'query' |
// 'json')`. A failure throws ValiError, which onError turns into 400 VALIDATION_FAILED.
//
// Why not hono's `validator('json', …)`: it parses the body only when the Content-Type says JSON and
// otherwise hands the schema `{}`. `curl -d` sends application/x-www-form-urlencoded, so a flow that
// forgot the header would get a confusing VALIDATION_FAILED. `body` parses JSON whatever the header.

import { createMiddleware } from 'hono/factory'
import * as v from 'valibot'
import type { AppEnv } from './app-env.js'
import { invalidJson, validationFailed } from './errors.js'
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

/** Parses the body as JSON whatever the Content-Type; an empty body is `{}`, a non-object is a 400. */
export function body<S extends ObjectSchema>(schema: S) {
  return createMiddleware<AppEnv, string, Validated<'json', S>>(async (c, next) => {
    const text = await readBody(c, c.var.maxBodyBytes)
    let value: unknown = {}
    if (text.trim() !== '') {
      try {
        value = JSON.parse(text)
      } catch (err) {
        throw invalidJson(err instanceof Error ? err.message : String(err))
      }
    }
    // PostgreSQL can store no NUL character in text or JSONB; refuse it the same way on every database.
    if (text.includes('\\u0000') || text.includes('\u0000')) {
      throw validationFailed([{ path: '', message: 'NUL characters (\\u0000) are not supported' }])
    }
    // valibot's object() also accepts arrays; a body is always a JSON object.
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw validationFailed([{ path: '', message: 'Request body must be a JSON object' }])
    }
    c.req.addValidatedData('json', check(schema, value))
    await next()
  })
}
