// The hostile-input table: bad requests for every endpoint, each with the status and code it must
// get. Paths may name the seeded run, step and flow as {run}, {step} and {flow}; the suite fills
// them in. Every request here is refused, so none may change the database.

export interface HostileCase {
  name: string
  method: string
  path: string
  /** An object is sent as JSON; a string or bytes verbatim. */
  body?: unknown
  headers?: Record<string, string>
  status: number
  code: string
  /** Text the error message or details must contain (e.g. the key probably meant). */
  mentions?: string[]
}

const JSON_TYPE = { 'Content-Type': 'application/json' }
const MIB = 1024 * 1024

// ---- request bodies ----

/** `{"x": [[[…]]]}` with `depth` levels in all, the body object included. */
const nested = (depth: number): string => `{"x":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))))

/** A JSON object of about `size` bytes: `{"<key>": {"blob": "xxx…"}}` (or at top level). */
const sized = (size: number, key?: string): string => {
  const blob = `"blob":"${'x'.repeat(size)}"`
  return key === undefined ? `{${blob}}` : `{"${key}":{${blob}}}`
}

interface BodyEndpoint {
  label: string
  method: string
  path: string
  /** A body the endpoint accepts, to which each attack adds itself. */
  valid: Record<string, unknown>
  /** Where an arbitrary JSON value is allowed (for the deep and prototype attacks), if anywhere. */
  freeKey?: string
  maxBytes: number
}

const BODY_ENDPOINTS: BodyEndpoint[] = [
  {
    label: 'trigger',
    method: 'POST',
    path: '/flows/{flow}/runs',
    valid: {},
    freeKey: 'input',
    maxBytes: MIB,
  },
  {
    label: 'create run',
    method: 'POST',
    path: '/runs',
    valid: { flowName: 'hello' },
    freeKey: 'input',
    maxBytes: MIB,
  },
  { label: 'update run', method: 'PATCH', path: '/runs/{run}', valid: {}, freeKey: 'output', maxBytes: MIB },
  {
    label: 'schedule stage',
    method: 'POST',
    path: '/runs/{run}/steps',
    valid: { stage: 'later', final: true, steps: [{ id: 'later-1', name: 'greet' }] },
    maxBytes: MIB,
  },
  {
    label: 'post fields',
    method: 'POST',
    path: '/runs/{run}/steps/{step}/fields',
    valid: { fields: { a: 1 } },
    freeKey: 'fields',
    maxBytes: 8 * MIB,
  },
  {
    label: 'create log',
    method: 'POST',
    path: '/runs/{run}/logs',
    valid: { message: 'hi' },
    freeKey: 'metadata',
    maxBytes: MIB,
  },
  {
    label: 'prune runs',
    method: 'POST',
    path: '/runs/prune',
    valid: { olderThanMs: 0, dryRun: true },
    maxBytes: MIB,
  },
  {
    label: 'heartbeat',
    method: 'POST',
    path: '/leases/heartbeat',
    valid: { workerId: 'w', leases: [] },
    maxBytes: MIB,
  },
  {
    label: 'exit report',
    method: 'POST',
    path: '/leases/exit',
    valid: {
      lease: 'step/none/none/1',
      exitCode: 0,
      signal: null,
      timedOut: false,
      stdout: '',
      stderr: '',
      startedAt: 0,
    },
    maxBytes: 8 * MIB,
  },
]

/** The same attacks on every endpoint that reads a body. */
function bodyAttacks(endpoint: BodyEndpoint): HostileCase[] {
  const { method, path } = endpoint
  const at = (name: string, rest: Omit<HostileCase, 'name' | 'method' | 'path'>): HostileCase => ({
    name: `${endpoint.label}: ${name}`,
    method,
    path,
    ...rest,
  })
  const json = (name: string, text: string, code: string): HostileCase =>
    at(name, { body: text, headers: JSON_TYPE, status: 400, code })
  const raw = (name: string, body: Uint8Array): HostileCase =>
    at(name, { body, headers: JSON_TYPE, status: 400, code: 'INVALID_JSON' })
  const typed = (contentType: string): HostileCase =>
    at(`Content-Type ${contentType}`, {
      body: JSON.stringify(endpoint.valid),
      headers: { 'Content-Type': contentType },
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    })
  const valid = JSON.stringify(endpoint.valid).slice(1, -1)
  const withKey = (extra: string): string => `{${valid}${valid === '' ? '' : ','}${extra}}`
  const free = endpoint.freeKey
  const cases: HostileCase[] = [
    json('truncated JSON', '{"input": [1, 2', 'INVALID_JSON'),
    json('truncated string', '{"input": "abc', 'INVALID_JSON'),
    json('not JSON', '{not json}', 'INVALID_JSON'),
    json('single-quoted JSON', "{'a': 1}", 'INVALID_JSON'),
    json('trailing garbage', `${JSON.stringify(endpoint.valid)} garbage`, 'INVALID_JSON'),
    json(
      'two documents',
      `${JSON.stringify(endpoint.valid)}${JSON.stringify(endpoint.valid)}`,
      'INVALID_JSON',
    ),
    json('a raw control character in a string', '{"a":"x\u0001y"}', 'INVALID_JSON'),
    json('NaN', '{"a": NaN}', 'INVALID_JSON'),
    json('a number too large for a double', withKey('"huge":1e400'), 'VALIDATION_FAILED'),
    raw('a byte that is never UTF-8 (0xff)', bytes('{"a":"', [0xff], '"}')),
    raw('overlong UTF-8 ("/" as C0 AF)', bytes('{"a":"', [0xc0, 0xaf], '"}')),
    raw('overlong UTF-8 (NUL as C0 80)', bytes('{"a":"', [0xc0, 0x80], '"}')),
    raw('a UTF-8 encoded surrogate (ED A0 80)', bytes('{"a":"', [0xed, 0xa0, 0x80], '"}')),
    raw('a truncated UTF-8 sequence', bytes('{"a":"', [0xe2, 0x82], '"}')),
    raw('a code point above U+10FFFF', bytes('{"a":"', [0xf4, 0x90, 0x80, 0x80], '"}')),
    raw(
      'UTF-16 with a byte-order mark',
      bytes([0xff, 0xfe], Buffer.from('{}', 'utf16le').toString('latin1')),
    ),
    json('a lone surrogate escape in a value', withKey('"s":"\\ud800"'), 'VALIDATION_FAILED'),
    json('a lone low surrogate escape', withKey('"s":"x\\udc00y"'), 'VALIDATION_FAILED'),
    json('a lone surrogate escape in a key', withKey('"\\udfff":1'), 'VALIDATION_FAILED'),
    json('a NUL escape in a value', withKey('"s":"a\\u0000b"'), 'VALIDATION_FAILED'),
    json('a NUL escape in a key', withKey('"a\\u0000":1'), 'VALIDATION_FAILED'),
    json('a __proto__ key', withKey('"__proto__":{"polluted":true}'), 'VALIDATION_FAILED'),
    json(
      'a __proto__ key spelt with escapes',
      withKey('"\\u005f_proto__":{"polluted":true}'),
      'VALIDATION_FAILED',
    ),
    json('a constructor key', withKey('"constructor":{"prototype":{"polluted":true}}'), 'VALIDATION_FAILED'),
    json('a prototype key', withKey('"prototype":{}'), 'VALIDATION_FAILED'),
    json('JSON nested 65 levels', nested(65), 'VALIDATION_FAILED'),
    json('JSON nested 10,000 levels', nested(10_000), 'VALIDATION_FAILED'),
    json(
      'JSON nested 100,000 objects',
      `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`,
      'VALIDATION_FAILED',
    ),
    json('an array', '[]', 'VALIDATION_FAILED'),
    json('an array of the valid body', `[${JSON.stringify(endpoint.valid)}]`, 'VALIDATION_FAILED'),
    json('null', 'null', 'VALIDATION_FAILED'),
    json('a string', '"hello"', 'VALIDATION_FAILED'),
    json('a number', '42', 'VALIDATION_FAILED'),
    json('true', 'true', 'VALIDATION_FAILED'),
    typed('multipart/form-data; boundary=x'),
    typed('application/xml'),
    typed('text/xml'),
    typed('text/html'),
    typed('image/png'),
    typed('application/octet-stream'),
    typed('application/json; charset=iso-8859-1'),
    typed('application/json; charset=utf-16'),
    at('gzip Content-Encoding', {
      body: JSON.stringify(endpoint.valid),
      headers: { ...JSON_TYPE, 'Content-Encoding': 'gzip' },
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    }),
    at(`a body over ${endpoint.maxBytes} bytes`, {
      body: sized(endpoint.maxBytes),
      headers: JSON_TYPE,
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    }),
  ]
  if (free !== undefined) {
    cases.push(
      json(`${free} nested 64 levels below the body`, `{"${free}":${nested(64)}}`, 'VALIDATION_FAILED'),
      json(
        `__proto__ deep inside ${free}`,
        `{"${free}":{"a":[{"b":{"__proto__":{"x":1}}}]}}`,
        'VALIDATION_FAILED',
      ),
      json(`NUL deep inside ${free}`, `{"${free}":{"a":["ok","\\u0000"]}}`, 'VALIDATION_FAILED'),
      json(`a lone surrogate deep inside ${free}`, `{"${free}":{"a":{"b":"\\ud83d"}}}`, 'VALIDATION_FAILED'),
    )
  }
  return cases
}

// ---- path parameters ----

interface PathValue {
  label: string
  /** Already percent-encoded, as it appears in the URL. */
  segment: string
  /** Whether the value is refused whatever it names (400), or only names nothing (404). */
  refused: boolean
}

const PATH_VALUES: PathValue[] = [
  { label: 'NUL', segment: '%00', refused: true },
  { label: 'NUL inside', segment: 'abc%00def', refused: true },
  { label: 'a newline', segment: 'a%0Ab', refused: true },
  { label: 'a carriage return', segment: 'a%0D%0AX-Injected:%201', refused: true },
  { label: 'a tab', segment: 'a%09b', refused: true },
  { label: 'an ANSI escape', segment: '%1B%5B31mred', refused: true },
  { label: 'DEL', segment: 'a%7F', refused: true },
  { label: 'a C1 control (NEL)', segment: 'a%C2%85', refused: true },
  { label: '256 characters', segment: 'r'.repeat(256), refused: true },
  { label: '10,000 characters', segment: 'r'.repeat(10_000), refused: true },
  { label: 'invalid percent-encoding (%ff)', segment: '%ff', refused: true },
  { label: 'a truncated percent-encoded sequence', segment: '%E0%A4%A', refused: true },
  { label: 'a percent-encoded surrogate', segment: '%ED%A0%80', refused: true },
  { label: 'overlong percent-encoded UTF-8', segment: '%C0%AF', refused: true },
  { label: 'a lone %', segment: 'a%', refused: true },
  { label: 'an encoded slash', segment: 'a%2Fb', refused: false },
  { label: 'encoded traversal', segment: '..%2F..%2Fetc%2Fpasswd', refused: false },
  { label: 'an SQL fragment', segment: "1'%20OR%20'1'%3D'1", refused: false },
  { label: 'an SQL statement', segment: "x'%3B%20DROP%20TABLE%20runs%3B--", refused: false },
  { label: 'a LIKE wildcard', segment: '%25', refused: false },
  { label: 'shell metacharacters', segment: '%24(touch%20%2Ftmp%2Fpwned)', refused: false },
  { label: 'an emoji', segment: '%F0%9F%98%80', refused: false },
  { label: '255 characters', segment: 'r'.repeat(255), refused: false },
]

interface RunRoute {
  method: string
  /** `{id}` is where the hostile value goes; the rest may name {run} and {step}. */
  path: string
  body?: unknown
  /** What an id that names nothing gets. */
  missing: { status: number; code: string }
}

const RUN_NOT_FOUND = { status: 404, code: 'RUN_NOT_FOUND' }
const STAGE = { stage: 'later', final: true, steps: [{ id: 'later-1', name: 'greet' }] }

const RUN_ROUTES: RunRoute[] = [
  { method: 'GET', path: '/runs/{id}', missing: RUN_NOT_FOUND },
  { method: 'PATCH', path: '/runs/{id}', body: { name: 'x' }, missing: RUN_NOT_FOUND },
  { method: 'DELETE', path: '/runs/{id}', missing: RUN_NOT_FOUND },
  { method: 'POST', path: '/runs/{id}/abort', missing: RUN_NOT_FOUND },
  { method: 'POST', path: '/runs/{id}/retry', missing: RUN_NOT_FOUND },
  { method: 'POST', path: '/runs/{id}/pause', missing: RUN_NOT_FOUND },
  { method: 'POST', path: '/runs/{id}/resume', missing: RUN_NOT_FOUND },
  { method: 'GET', path: '/runs/{id}/steps', missing: RUN_NOT_FOUND },
  { method: 'POST', path: '/runs/{id}/steps', body: STAGE, missing: RUN_NOT_FOUND },
  { method: 'GET', path: '/runs/{id}/steps/{step}', missing: RUN_NOT_FOUND },
  { method: 'POST', path: '/runs/{id}/steps/{step}/retry', missing: RUN_NOT_FOUND },
  {
    method: 'POST',
    path: '/runs/{id}/steps/{step}/fields',
    body: { fields: { a: 1 } },
    missing: RUN_NOT_FOUND,
  },
  { method: 'GET', path: '/runs/{id}/fields', missing: RUN_NOT_FOUND },
  { method: 'GET', path: '/runs/{id}/logs', missing: RUN_NOT_FOUND },
  { method: 'POST', path: '/runs/{id}/logs', body: { message: 'x' }, missing: RUN_NOT_FOUND },
  { method: 'GET', path: '/runs/{id}/flow-calls', missing: RUN_NOT_FOUND },
  // The step of a real run.
  { method: 'GET', path: '/runs/{run}/steps/{id}', missing: { status: 404, code: 'STEP_NOT_FOUND' } },
  { method: 'POST', path: '/runs/{run}/steps/{id}/retry', missing: { status: 400, code: 'STEP_NOT_FOUND' } },
  {
    method: 'POST',
    path: '/runs/{run}/steps/{id}/fields',
    body: { fields: { a: 1 } },
    missing: { status: 400, code: 'STEP_NOT_FOUND' },
  },
  // Flow names.
  { method: 'GET', path: '/flows/{id}', missing: { status: 404, code: 'FLOW_NOT_FOUND' } },
  { method: 'POST', path: '/flows/{id}/runs', body: {}, missing: { status: 404, code: 'FLOW_NOT_FOUND' } },
]

function pathAttacks(): HostileCase[] {
  return RUN_ROUTES.flatMap((route) =>
    PATH_VALUES.map((value) => ({
      name: `${route.method} ${route.path.replace('{id}', `<${value.label}>`)}`,
      method: route.method,
      path: route.path.replace('{id}', value.segment),
      body: route.body,
      ...(value.refused ? { status: 400, code: 'VALIDATION_FAILED' } : route.missing),
    })),
  )
}

// ---- query strings ----

const query = (path: string, search: string, status = 400, code = 'VALIDATION_FAILED'): HostileCase => ({
  name: `GET ${path}?${search.length > 60 ? `${search.slice(0, 60)}…` : search}`,
  method: 'GET',
  path: `${path}?${search}`,
  status,
  code,
})

const PAGING = [
  'limit=-1',
  'limit=0',
  'limit=abc',
  'limit=1.5',
  'limit=1e3',
  'limit=0x10',
  'limit=%2B5',
  'limit=%205',
  'limit=',
  'limit=99999999999999999999999',
  `limit=${'9'.repeat(400)}`,
  'limit=1&limit=2',
  'limit=%00',
  'offset=-1',
  'offset=abc',
  'offset=1.5',
  'offset=9007199254740993',
  `offset=${'9'.repeat(400)}`,
  'offset=%00',
]

function queryAttacks(): HostileCase[] {
  const everyGet = [
    '/flows',
    '/runs',
    '/runs/{run}',
    '/runs/{run}/steps',
    '/runs/{run}/fields',
    '/runs/{run}/logs',
  ]
  return [
    ...everyGet.flatMap((path) => [
      query(path, 'x=%00'),
      query(path, '%00=1'),
      query(path, 'x=a%0Ab'),
      query(path, 'x=%ED%A0%80%00'),
    ]),
    ...PAGING.map((search) => query('/runs', search)),
    query('/runs', 'limit=101'),
    query('/runs', 'status=bogus'),
    query('/runs', 'status=running%00'),
    query('/runs', "status=running'%20OR%201%3D1--"),
    query('/runs', 'sortBy=createdAt%3B%20DROP%20TABLE%20runs'),
    query('/runs', 'sortBy=id'),
    query('/runs', 'sortBy=1'),
    query('/runs', 'sortOrder=sideways'),
    query('/runs', 'sortOrder=asc%2C%20id'),
    query('/runs', 'flowName=%00'),
    query('/runs', `flowName=${'f'.repeat(256)}`),
    query('/runs', 'flowName=a&flowName=b'),
    ...PAGING.map((search) => query('/runs/{run}/steps', search)),
    query('/runs/{run}/steps', 'limit=1001'),
    query('/runs/{run}/steps', 'status=bogus'),
    query('/runs/{run}/steps', 'stage=%00'),
    query('/runs/{run}/steps', `stage=${'s'.repeat(256)}`),
    query('/runs/{run}/steps', 'name=a%00'),
    query('/runs/{run}/steps', 'sortBy=password'),
    query('/runs/{run}/steps', 'sortOrder=up'),
    ...PAGING.filter((search) => search.startsWith('limit')).map((search) =>
      query('/runs/{run}/logs', search),
    ),
    query('/runs/{run}/logs', 'limit=1001'),
    query('/runs/{run}/logs', 'level=loud'),
    query('/runs/{run}/logs', 'level=info%00'),
    query('/runs/{run}/logs', 'entityType=bogus'),
    query('/runs/{run}/logs', 'entityType=%00'),
    query('/runs/{run}/logs', 'entityId=%00'),
    query('/runs/{run}/logs', `entityId=${'e'.repeat(256)}`),
    query('/runs/{run}/fields', 'stepId='),
    query('/runs/{run}/fields', 'stepId=,,,'),
    query('/runs/{run}/fields', 'stepId=%00'),
    query('/runs/{run}/fields', 'stepId=a,b%00'),
    query('/runs/{run}/fields', 'fieldName='),
    query('/runs/{run}/fields', 'fieldName=%00'),
    query('/runs/{run}/fields', `fieldName=${'f'.repeat(257)}`),
  ]
}

// ---- scheduling a stage ----

const step = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: 'new-1',
  name: 'greet',
  ...extra,
})

const stageOf = (steps: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  stage: 'later',
  final: true,
  steps,
  ...extra,
})

const schedule = (
  name: string,
  body: unknown,
  code = 'VALIDATION_FAILED',
  mentions?: string[],
): HostileCase => ({
  name: `schedule stage: ${name}`,
  method: 'POST',
  path: '/runs/{run}/steps',
  body,
  status: 400,
  code,
  ...(mentions ? { mentions } : {}),
})

/** Names a step's env may not set (security/step-env-names.ts), sent one at a time. */
const FORBIDDEN_ENV = [
  'BASH_ENV',
  'ENV',
  'BASH_FUNC_curl',
  'BASH_FUNC_echo%%',
  'SHELLOPTS',
  'BASHOPTS',
  'PS4',
  'PROMPT_COMMAND',
  'IFS',
  'CDPATH',
  'GLOBIGNORE',
  'PATH',
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'LD_AUDIT',
  'BASH_XTRACEFD',
  'BASH_LOADABLES_PATH',
  'BASH_COMPAT',
  'EXECIGNORE',
  'INPUTRC',
  'GLIBC_TUNABLES',
  'GCONV_PATH',
  'LOCPATH',
  'NLSPATH',
  'MALLOC_CHECK_',
  'HOSTALIASES',
  'RES_OPTIONS',
  'LOCALDOMAIN',
  'POSIXLY_CORRECT',
  'http_proxy',
  'HTTPS_PROXY',
  'CURL_HOME',
  'MAXQ_RUN_ID',
  'MAXQ_API',
  'MAXQ_TOKEN',
  'MAXQ_DATABASE_URL',
  '1BAD',
  'A-B',
  'A=B',
  'A B',
  '',
  'Ä',
  'N'.repeat(256),
]

/** Unknown keys and the key each is probably meant as (null: no suggestion expected). */
const UNKNOWN_STEP_KEYS: [string, string | null][] = [
  ['depends_on', 'dependsOn'],
  ['dependencies', 'dependsOn'],
  ['dependson', 'dependsOn'],
  ['dependOn', 'dependsOn'],
  ['needs', 'dependsOn'],
  ['retries', 'maxRetries'],
  ['max_retries', 'maxRetries'],
  ['maxRetry', 'maxRetries'],
  ['timeout', 'timeoutSeconds'],
  ['timeout_seconds', 'timeoutSeconds'],
  ['timeoutSecond', 'timeoutSeconds'],
  ['environment', 'env'],
  ['Env', 'env'],
  ['command', null],
]

function scheduleAttacks(): HostileCase[] {
  const ok = step()
  return [
    schedule(
      'the BASH_ENV exploit (issue 14)',
      stageOf([step({ env: { BASH_ENV: '$(touch /tmp/maxq-pwned)' } })]),
      undefined,
      ['BASH_ENV'],
    ),
    ...FORBIDDEN_ENV.map((name) =>
      schedule(
        `env name ${JSON.stringify(name.length > 20 ? `${name.slice(0, 20)}…` : name)}`,
        stageOf([step({ env: { [name]: 'x' } })]),
      ),
    ),
    schedule(
      'a forbidden env name among allowed ones',
      stageOf([step({ env: { SHARD: '1', LD_PRELOAD: '/x.so' } })]),
      undefined,
      ['LD_PRELOAD'],
    ),
    schedule(
      '1,001 env entries',
      stageOf([step({ env: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`V${i}`, 'x'])) })]),
    ),
    schedule('an env value over 32 KiB', stageOf([step({ env: { BIG: 'x'.repeat(32 * 1024 + 1) } })])),
    schedule(
      'an env value of 11,000 three-byte characters',
      stageOf([step({ env: { BIG: '€'.repeat(11_000) } })]),
    ),
    schedule('an env value that is a number', stageOf([step({ env: { SHARD: 1 } })])),
    schedule('an env value that is null', stageOf([step({ env: { SHARD: null } })])),
    schedule('an env value that is an object', stageOf([step({ env: { SHARD: { a: 1 } } })])),
    schedule('env as an array', stageOf([step({ env: ['A=1'] })])),
    schedule('env as a string', stageOf([step({ env: 'A=1' })])),
    schedule('env null', stageOf([step({ env: null })])),
    ...[-1, 101, 1.5, 1e308, -1e308, '3', null, true, [], {}].map((value) =>
      schedule(`maxRetries ${JSON.stringify(value)}`, stageOf([step({ maxRetries: value })])),
    ),
    ...[0, -1, 604_801, 1.5, 1e308, '60', null, false, [60]].map((value) =>
      schedule(`timeoutSeconds ${JSON.stringify(value)}`, stageOf([step({ timeoutSeconds: value })])),
    ),
    ...UNKNOWN_STEP_KEYS.map(([key, meant]) =>
      schedule(
        `unknown step key ${key}`,
        stageOf([step({ [key]: 1 })]),
        undefined,
        meant === null ? [key] : [key, meant],
      ),
    ),
    schedule('unknown stage key name', { ...stageOf([ok]), name: 'x' }, undefined, ['name', 'stage']),
    schedule('unknown stage key isFinal', { ...stageOf([ok]), isFinal: true }, undefined, [
      'isFinal',
      'final',
    ]),
    schedule('unknown stage key runId', { ...stageOf([ok]), runId: 'x' }, undefined, ['runId']),
    schedule('no stage', { final: true, steps: [ok] }),
    schedule('no final', { stage: 'later', steps: [ok] }),
    schedule('no steps', { stage: 'later', final: true }),
    schedule('an empty stage name', stageOf([ok], { stage: '' })),
    schedule('a stage name of 256 characters', stageOf([ok], { stage: 's'.repeat(256) })),
    schedule('a stage name with a newline', stageOf([ok], { stage: 'a\nb' })),
    schedule('a stage name with an escape sequence', stageOf([ok], { stage: '\u001b[2J' })),
    schedule('a stage name that is a number', stageOf([ok], { stage: 1 })),
    schedule('final as a string', stageOf([ok], { final: 'true' })),
    schedule('final null', stageOf([ok], { final: null })),
    schedule('steps empty', stageOf([])),
    schedule('steps an object', stageOf([], { steps: { a: ok } })),
    schedule('steps a string', stageOf([], { steps: 'greet' })),
    schedule('a step that is a string', stageOf(['greet'])),
    schedule('a step that is null', stageOf([null])),
    schedule(
      '10,001 steps',
      stageOf(Array.from({ length: 10_001 }, (_, i) => ({ id: `s${i}`, name: 'greet' }))),
    ),
    schedule('a step without id', stageOf([{ name: 'greet' }])),
    schedule('a step without name', stageOf([{ id: 'new-1' }])),
    schedule('a numeric step id', stageOf([step({ id: 1 })])),
    schedule('a null step id', stageOf([step({ id: null })])),
    ...[
      '',
      'has space',
      'dot.ted',
      '../up',
      'a/b',
      "x';DROP TABLE steps;--",
      'ü',
      '$(id)',
      'a\u0001b',
      'x'.repeat(256),
      'x'.repeat(100_000),
    ].map((id) =>
      schedule(
        `step id ${JSON.stringify(id.length > 20 ? `${id.slice(0, 20)}…` : id)}`,
        stageOf([step({ id })]),
        'INVALID_STEP_ID',
      ),
    ),
    ...['', '..', '.', '../../etc', 'a/b', 'greet/../../x', 'x'.repeat(129), '$(id)'].map((name) =>
      schedule(
        `step name ${JSON.stringify(name.length > 20 ? `${name.slice(0, 20)}…` : name)}`,
        stageOf([step({ name })]),
        'INVALID_STEP_NAME',
      ),
    ),
    schedule(
      'a step name that is no step of the flow',
      stageOf([step({ name: 'no_such_step' })]),
      'STEP_NOT_FOUND',
    ),
    schedule('a step name of the other flow', stageOf([step({ name: 'work' })]), 'STEP_NOT_FOUND'),
    schedule('the same id twice', stageOf([step(), step()]), 'DUPLICATE_STEP_ID'),
    schedule(
      'an id used by another stage of the run',
      stageOf([step({ id: '{step}' })]),
      'DUPLICATE_STEP_ID',
    ),
    schedule('dependsOn an unknown id', stageOf([step({ dependsOn: ['nowhere'] })]), 'UNKNOWN_DEPENDENCY'),
    schedule(
      'dependsOn an SQL fragment',
      stageOf([step({ dependsOn: ["' OR '1'='1"] })]),
      'UNKNOWN_DEPENDENCY',
    ),
    schedule('dependsOn itself', stageOf([step({ dependsOn: ['new-1'] })]), 'DEPENDENCY_CYCLE'),
    schedule(
      'a dependency cycle',
      stageOf([step({ id: 'c1', dependsOn: ['c2'] }), step({ id: 'c2', dependsOn: ['c1'] })]),
      'DEPENDENCY_CYCLE',
    ),
    schedule('dependsOn a string', stageOf([step({ dependsOn: 'greet-1' })])),
    schedule('dependsOn numbers', stageOf([step({ dependsOn: [1] })])),
    schedule('dependsOn null', stageOf([step({ dependsOn: null })])),
    schedule('dependsOn an id of 256 characters', stageOf([step({ dependsOn: ['d'.repeat(256)] })])),
    schedule(
      'dependsOn 10,001 ids',
      stageOf([step({ dependsOn: Array.from({ length: 10_001 }, (_, i) => `d${i}`) })]),
    ),
  ]
}

// ---- the other bodies ----

const post = (
  label: string,
  path: string,
  body: unknown,
  status = 400,
  code = 'VALIDATION_FAILED',
  method = 'POST',
): HostileCase => ({
  name: `${label}: ${JSON.stringify(body).slice(0, 60)}`,
  method,
  path,
  body,
  status,
  code,
})

function otherBodyAttacks(): HostileCase[] {
  return [
    post('create run', '/runs', {}),
    post('create run', '/runs', { flowName: null }),
    post('create run', '/runs', { flowName: 1 }),
    post('create run', '/runs', { flowName: ['hello'] }),
    post('create run', '/runs', { flowName: '' }),
    post('create run', '/runs', { flowName: 'f'.repeat(256) }),
    post('create run', '/runs', { flowName: 'hel\nlo' }),
    post('create run', '/runs', { flowName: '../hello' }, 404, 'FLOW_NOT_FOUND'),
    post('create run', '/runs', { flowName: 'hello/../other' }, 404, 'FLOW_NOT_FOUND'),
    post('create run', '/runs', { flowName: '/etc' }, 404, 'FLOW_NOT_FOUND'),
    post('create run', '/runs', { flowName: '.' }, 404, 'FLOW_NOT_FOUND'),
    post('create run', '/runs', { flowName: "hello' OR '1'='1" }, 404, 'FLOW_NOT_FOUND'),
    post('create run', '/runs', { flowName: 'f'.repeat(200) }, 404, 'FLOW_NOT_FOUND'),
    post('update run', '/runs/{run}', { status: 'completed' }, 400, 'VALIDATION_FAILED', 'PATCH'),
    post('update run', '/runs/{run}', { name: 1 }, 400, 'VALIDATION_FAILED', 'PATCH'),
    post('update run', '/runs/{run}', { name: 'n'.repeat(257) }, 400, 'VALIDATION_FAILED', 'PATCH'),
    post('update run', '/runs/{run}', { description: 'd'.repeat(10_001) }, 400, 'VALIDATION_FAILED', 'PATCH'),
    post('update run', '/runs/{run}', { description: ['x'] }, 400, 'VALIDATION_FAILED', 'PATCH'),
    post('update run', '/runs/{run}', { id: 'other' }, 400, 'VALIDATION_FAILED', 'PATCH'),
    post('update run', '/runs/{run}', { flowName: 'other' }, 400, 'VALIDATION_FAILED', 'PATCH'),
    // The seeded run is open: deleting it is a state conflict, and nothing is deleted.
    { ...post('delete run', '/runs/{run}', null, 409, 'RUN_NOT_FINISHED', 'DELETE'), body: undefined },
    post('prune runs', '/runs/prune', {}),
    post('prune runs', '/runs/prune', { olderThanMs: 1, finishedBefore: 1 }),
    post('prune runs', '/runs/prune', { olderThanMs: -1 }),
    post('prune runs', '/runs/prune', { olderThanMs: 1.5 }),
    post('prune runs', '/runs/prune', { olderThanMs: '30d' }),
    post('prune runs', '/runs/prune', { olderThanMs: 1e300 }),
    post('prune runs', '/runs/prune', { finishedBefore: null }),
    post('prune runs', '/runs/prune', { olderThanMs: 0, limit: 0 }),
    post('prune runs', '/runs/prune', { olderThanMs: 0, limit: 100_000 }),
    post('prune runs', '/runs/prune', { olderThanMs: 0, dryRun: 'true' }),
    post('prune runs', '/runs/prune', { olderThanMs: 0, flowName: '' }),
    post('prune runs', '/runs/prune', { olderThanMs: 0, flowName: 'hel\nlo' }),
    post('prune runs', '/runs/prune', { olderThanMs: 0, before: 1 }),
    post('post fields', '/runs/{run}/steps/{step}/fields', {}),
    post('post fields', '/runs/{run}/steps/{step}/fields', { fields: null }),
    post('post fields', '/runs/{run}/steps/{step}/fields', { fields: [1, 2] }),
    post('post fields', '/runs/{run}/steps/{step}/fields', { fields: 'a=1' }),
    post('post fields', '/runs/{run}/steps/{step}/fields', { fields: 1 }),
    post('post fields', '/runs/{run}/steps/no-such-step/fields', { fields: { a: 1 } }, 400, 'STEP_NOT_FOUND'),
    post('create log', '/runs/{run}/logs', {}),
    post('create log', '/runs/{run}/logs', { message: '' }),
    post('create log', '/runs/{run}/logs', { message: 1 }),
    post('create log', '/runs/{run}/logs', { message: null }),
    post('create log', '/runs/{run}/logs', { message: 'x', level: 'loud' }),
    post('create log', '/runs/{run}/logs', { message: 'x', level: 'INFO ' }),
    post('create log', '/runs/{run}/logs', { message: 'x', level: 1 }),
    post('create log', '/runs/{run}/logs', { message: 'x', entityType: 'bogus' }),
    post('create log', '/runs/{run}/logs', { message: 'x', entityType: "run' --" }),
    post('create log', '/runs/{run}/logs', { message: 'x', entityId: 'e'.repeat(256) }),
    post('create log', '/runs/{run}/logs', { message: 'x', entityId: 'a\u0007' }),
    post('create log', '/runs/{run}/logs', { message: 'x', entityId: 5 }),
    post('heartbeat', '/leases/heartbeat', {}),
    post('heartbeat', '/leases/heartbeat', { workerId: 'w' }),
    post('heartbeat', '/leases/heartbeat', { workerId: '', leases: [] }),
    post('heartbeat', '/leases/heartbeat', { workerId: 'w', leases: 'x' }),
    post('heartbeat', '/leases/heartbeat', { workerId: 'w', leases: [1] }),
    post('heartbeat', '/leases/heartbeat', { workerId: 'w', leases: ['l'.repeat(513)] }),
    post('heartbeat', '/leases/heartbeat', {
      workerId: 'w',
      leases: Array.from({ length: 10_001 }, () => 'l'),
    }),
    post('exit report', '/leases/exit', {}),
    post('exit report', '/leases/exit', {
      lease: '',
      exitCode: 0,
      signal: null,
      timedOut: false,
      stdout: '',
      stderr: '',
      startedAt: 0,
    }),
    post('exit report', '/leases/exit', {
      lease: 'l',
      exitCode: 1.5,
      signal: null,
      timedOut: false,
      stdout: '',
      stderr: '',
      startedAt: 0,
    }),
    post('exit report', '/leases/exit', {
      lease: 'l',
      exitCode: '0',
      signal: null,
      timedOut: false,
      stdout: '',
      stderr: '',
      startedAt: 0,
    }),
    post('exit report', '/leases/exit', {
      lease: 'l',
      exitCode: 0,
      signal: null,
      timedOut: 'no',
      stdout: '',
      stderr: '',
      startedAt: 0,
    }),
    post('exit report', '/leases/exit', {
      lease: 'l',
      exitCode: 0,
      signal: null,
      timedOut: false,
      stdout: 1,
      stderr: '',
      startedAt: 0,
    }),
    post('exit report', '/leases/exit', {
      lease: 'l',
      exitCode: 0,
      signal: null,
      timedOut: false,
      stdout: '',
      stderr: '',
      startedAt: -1,
    }),
  ]
}

// ---- routes and methods that do not exist ----

function unknownRoutes(): HostileCase[] {
  const missing = (method: string, path: string): HostileCase => ({
    name: `${method} ${path}`,
    method,
    path,
    status: 404,
    code: 'NOT_FOUND',
  })
  return [
    missing('DELETE', '/runs'),
    missing('PUT', '/runs/{run}'),
    missing('DELETE', '/flows/{flow}'),
    missing('GET', '/runs/{run}/steps/{step}/fields'),
    missing('POST', '/runs/{run}/fields'),
    missing('GET', '/admin'),
    missing('GET', '/../../etc/passwd'),
    missing('GET', '/runs/{run}/steps/{step}/x/y'),
    missing('POST', '/leases'),
  ]
}

export function hostileCases(): HostileCase[] {
  return [
    ...BODY_ENDPOINTS.flatMap(bodyAttacks),
    ...pathAttacks(),
    ...queryAttacks(),
    ...scheduleAttacks(),
    ...otherBodyAttacks(),
    ...unknownRoutes(),
  ]
}
