// The body of POST /runs/:runId/steps: a stage and its step definitions, with every limit we put on
// them. Both objects are strict: an unknown key is a 400 naming it (and the key probably meant),
// because a dropped `depends_on` or `timeout` would run the stage without the ordering or the time
// limit its author asked for. Step `env` names go through security/step-env-names.ts.

import * as v from 'valibot'
import { MAX_RETRY_DELAY_SECONDS, RETRY_BACKOFFS } from '../../db/rules/decide-attempt.js'
import { forbiddenEnvName } from '../../security/step-env-names.js'
import { MAX_ID_LENGTH, printable } from '../shared-schemas.js'
import { unknownKeyMessage } from '../unknown-key.js'

export const MAX_STEPS_PER_STAGE = 10_000
export const MAX_RETRIES = 100
/** Seven days. A longer step is better run as several. */
export const MAX_TIMEOUT_SECONDS = 7 * 24 * 60 * 60
export const MAX_ENV_ENTRIES = 1_000
/** Bytes of UTF-8 in one env value. */
export const MAX_ENV_VALUE_BYTES = 32 * 1024

const EnvName = v.pipe(
  v.string(),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const reason = forbiddenEnvName(dataset.value)
    if (reason !== null)
      addIssue({ message: `env ${JSON.stringify(dataset.value)} may not be set: ${reason}` })
  }),
)

// A NUL byte cannot be passed in a process environment (and the body parser refuses it already).
const EnvValue = v.pipe(
  v.string('env values must be strings'),
  v.excludes('\0', 'env values must not contain NUL'),
  v.check(
    (value) => Buffer.byteLength(value) <= MAX_ENV_VALUE_BYTES,
    `env values are at most ${MAX_ENV_VALUE_BYTES} bytes`,
  ),
)

const Env = v.pipe(
  v.record(EnvName, EnvValue),
  v.check((env) => Object.keys(env).length <= MAX_ENV_ENTRIES, `env has at most ${MAX_ENV_ENTRIES} entries`),
)

const integerIn = (min: number, max: number) =>
  v.pipe(
    v.number('must be a number'),
    v.integer('must be a whole number'),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  )

const STEP_KEYS = [
  'id',
  'name',
  'dependsOn',
  'maxRetries',
  'env',
  'timeoutSeconds',
  'retryDelaySeconds',
  'retryBackoff',
] as const

// Keyed by the spelling with case and separators removed (see handlers/unknown-key.ts).
const STEP_KEY_ALIASES = {
  dependencies: 'dependsOn',
  depends: 'dependsOn',
  deps: 'dependsOn',
  needs: 'dependsOn',
  after: 'dependsOn',
  retries: 'maxRetries',
  retry: 'maxRetries',
  maxretry: 'maxRetries',
  maxattempts: 'maxRetries',
  timeout: 'timeoutSeconds',
  timeoutsecs: 'timeoutSeconds',
  timeoutms: 'timeoutSeconds',
  retrydelay: 'retryDelaySeconds',
  retrydelaysecs: 'retryDelaySeconds',
  retrydelayms: 'retryDelaySeconds',
  delay: 'retryDelaySeconds',
  backoff: 'retryBackoff',
  retrystrategy: 'retryBackoff',
  environment: 'env',
  vars: 'env',
  variables: 'env',
  stepid: 'id',
  step: 'name',
  stepname: 'name',
  script: 'name',
}

export const StepDefinition = v.strictObject(
  {
    // Checked by checkStepDefinitions, which answers INVALID_STEP_ID / INVALID_STEP_NAME with the
    // offending value, rather than a generic VALIDATION_FAILED.
    id: v.string(),
    name: v.string(),
    dependsOn: v.optional(
      v.pipe(v.array(v.pipe(v.string(), v.maxLength(MAX_ID_LENGTH))), v.maxLength(MAX_STEPS_PER_STAGE)),
    ),
    maxRetries: v.optional(integerIn(0, MAX_RETRIES), 0),
    env: v.optional(Env),
    timeoutSeconds: v.optional(integerIn(1, MAX_TIMEOUT_SECONDS)),
    // Seconds before the first retry (fractions allowed, kept to the millisecond); unset: the
    // server's MAXQ_RETRY_DELAY_SECONDS. How later retries grow is retryBackoff's.
    retryDelaySeconds: v.optional(
      v.pipe(
        v.number('must be a number'),
        v.minValue(0, 'must be at least 0'),
        v.maxValue(MAX_RETRY_DELAY_SECONDS, `must be at most ${MAX_RETRY_DELAY_SECONDS}`),
      ),
    ),
    retryBackoff: v.optional(v.picklist(RETRY_BACKOFFS, `must be one of ${RETRY_BACKOFFS.join(', ')}`)),
  },
  unknownKeyMessage(STEP_KEYS, STEP_KEY_ALIASES),
)

const STAGE_KEYS = ['stage', 'final', 'steps'] as const

const STAGE_KEY_ALIASES = {
  name: 'stage',
  stagename: 'stage',
  isfinal: 'final',
  last: 'final',
  islast: 'final',
  step: 'steps',
  jobs: 'steps',
  tasks: 'steps',
}

export const ScheduleStageBody = v.strictObject(
  {
    stage: v.pipe(v.string(), v.nonEmpty('must not be empty'), v.maxLength(MAX_ID_LENGTH), printable),
    final: v.boolean(),
    steps: v.pipe(
      v.array(StepDefinition),
      v.nonEmpty('must list at least one step'),
      v.maxLength(MAX_STEPS_PER_STAGE, `a stage has at most ${MAX_STEPS_PER_STAGE} steps`),
    ),
  },
  unknownKeyMessage(STAGE_KEYS, STAGE_KEY_ALIASES),
)
