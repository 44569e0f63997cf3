// valibot schemas that several endpoints share: path parameters and JSON values.

import * as v from 'valibot'
import type { Fields, Json } from '../db/types.js'

/** Longest run id, step id, flow name or stage name we accept. */
export const MAX_ID_LENGTH = 255

// C0 and C1 control characters (NUL among them, which PostgreSQL text cannot hold) and surrogates
// that are not part of a pair (no UTF-8 spelling: PostgreSQL refuses them, SQLite would store U+FFFD).
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f]|[\uD800-\uDFFF]/u

export function isPrintable(text: string): boolean {
  return !UNPRINTABLE.test(text)
}

export const printable = v.check<string, string>(
  isPrintable,
  'must not contain control characters or unpaired surrogates',
)

export const Identifier = v.pipe(
  v.string(),
  v.nonEmpty('must not be empty'),
  v.maxLength(MAX_ID_LENGTH),
  printable,
)

// An unknown run id is not a validation error: the store answers RUN_NOT_FOUND (404).
export const RunParams = v.object({ runId: Identifier })

export const RunStepParams = v.object({ runId: Identifier, stepId: Identifier })

// An unsafe flow name is not a validation error either: findFlow answers null, which is a 404.
export const FlowParams = v.object({ flowName: Identifier })

// Bodies come from JSON.parse, so every value in them is already Json; these only narrow the type.
export const JsonValue = v.custom<Json>(() => true)

const isJsonObject = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

export const JsonObject = v.custom<Fields>(isJsonObject, 'must be a JSON object')

/** A whole number given in a query string, e.g. `?limit=50`, checked against [min, max]. */
export const queryInteger = (min: number, max: number) =>
  v.pipe(
    v.string(),
    v.regex(/^\d+$/, 'must be a whole number'),
    v.transform(Number),
    v.minValue(min),
    v.maxValue(max),
  )
