import { existsSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { flowEnv, maxqLibPath, scriptBaseEnv, stepEnv } from '../../runtime/script-env.js'

const base = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/me',
  MAXQ_DATABASE_URL: 'postgres://secret',
  MAXQ_SQLITE_PATH: '/data/maxq.db',
  MAXQ_FLOWS_ROOT: '/flows',
  MAXQ_PORT: '3000',
  MAXQ_HOST: '0.0.0.0',
  MAXQ_SCHEDULER_INTERVAL_MS: '200',
  MAXQ_SCHEDULER_BATCH_SIZE: '10',
  MAXQ_MAX_CONCURRENT_STEPS: '4',
  MAXQ_ABORT_GRACE_MS: '100',
  MAXQ_API_URL: 'http://api',
  MAXQ_TEST_DATABASE_URL: 'postgres://test',
  MAXQ_RUN_ID: 'parent-run',
  MAXQ_STEP_ID: 'parent-step',
  UNSET: undefined,
}

describe('flowEnv', () => {
  it('drops MaxQ configuration and sets the flow variables', () => {
    const env = flowEnv({
      base,
      token: 'tok',
      apiBase: 'http://127.0.0.1:3000/api/v1',
      runId: 'run-1',
      flowName: 'hello',
      completedStage: null,
      failedStage: null,
      lib: '/lib/maxq.sh',
    })
    expect(env).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/me',
      MAXQ_RUN_ID: 'run-1',
      MAXQ_FLOW_NAME: 'hello',
      MAXQ_API: 'http://127.0.0.1:3000/api/v1',
      MAXQ_COMPLETED_STAGE: '',
      MAXQ_LIB: '/lib/maxq.sh',
      MAXQ_TOKEN: 'tok',
    })
  })

  it('sets MAXQ_FAILED_STAGE only after a failed stage', () => {
    const env = flowEnv({
      base: {},
      token: 'tok',
      apiBase: 'http://api',
      runId: 'r',
      flowName: 'f',
      completedStage: 'one',
      failedStage: 'two',
    })
    expect(env.MAXQ_COMPLETED_STAGE).toBe('one')
    expect(env.MAXQ_FAILED_STAGE).toBe('two')
    expect(env.MAXQ_LIB).toBe(maxqLibPath())
  })
})

describe('stepEnv', () => {
  it('adds the step env but never lets it override MAXQ_* or what starts bash', () => {
    const env = stepEnv({
      base,
      token: 'tok',
      apiBase: 'http://api',
      runId: 'run-1',
      flowName: 'hello',
      stepId: 'greet-1',
      stepName: 'greet',
      stage: 'greeting',
      stepEnv: {
        SHARD: '3',
        PATH: '/opt/bin',
        BASH_ENV: '$(touch /tmp/pwned)',
        LD_PRELOAD: '/tmp/evil.so',
        BASH_FUNC_curl: '() { :; }',
        MAXQ_RUN_ID: 'other-run',
        MAXQ_DATABASE_URL: 'x',
        'A=B': '1',
      },
      lib: '/lib/maxq.sh',
    })
    expect(env).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/me',
      SHARD: '3',
      MAXQ_RUN_ID: 'run-1',
      MAXQ_STEP_ID: 'greet-1',
      MAXQ_STEP_NAME: 'greet',
      MAXQ_FLOW_NAME: 'hello',
      MAXQ_STAGE: 'greeting',
      MAXQ_API: 'http://api',
      MAXQ_LIB: '/lib/maxq.sh',
      MAXQ_TOKEN: 'tok',
    })
  })
})

describe('scriptBaseEnv', () => {
  const server = {
    PATH: '/usr/bin:/bin',
    HOME: '/home/me',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    TZ: 'UTC',
    USER: 'me',
    LOGNAME: 'me',
    TMPDIR: '/tmp',
    AWS_SECRET_ACCESS_KEY: 'aws-secret',
    GITHUB_TOKEN: 'gh-token',
    DATABASE_URL: 'postgres://db',
    BASH_ENV: '/tmp/x',
    LD_PRELOAD: '/tmp/x.so',
    BASH_FUNC_x: '() { :; }',
    MAXQ_DATABASE_URL: 'postgres://maxq',
    MAXQ_API_TOKEN: 'api-token',
    HTTP_PROXY: 'http://proxy:3128',
    UNSET: undefined,
  }

  it('keeps only the names every tool expects, never the rest of the server environment', () => {
    expect(scriptBaseEnv(server)).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/me',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      TZ: 'UTC',
      USER: 'me',
      LOGNAME: 'me',
      TMPDIR: '/tmp',
    })
  })

  it('adds the names the operator passes through, but never MAXQ_*', () => {
    const env = scriptBaseEnv(server, ['HTTP_PROXY', 'MAXQ_API_TOKEN', 'NOT_SET'])
    expect(env.HTTP_PROXY).toBe('http://proxy:3128')
    expect(env).not.toHaveProperty('MAXQ_API_TOKEN')
    expect(env).not.toHaveProperty('NOT_SET')
  })

  it('gives scripts a PATH when the server has none', () => {
    expect(scriptBaseEnv({}).PATH).toBe('/usr/local/bin:/usr/bin:/bin')
  })
})

describe('maxqLibPath', () => {
  it('points at runtime/maxq.sh of this package', () => {
    const lib = maxqLibPath()
    expect(path.isAbsolute(lib)).toBe(true)
    expect(lib.endsWith(path.join('runtime', 'maxq.sh'))).toBe(true)
    expect(existsSync(lib)).toBe(true)
  })
})
