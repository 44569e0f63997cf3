// End to end through a real server and real bash scripts: stages, callbacks, the DAG, retries,
// failure propagation, fields, logs, pause/resume. The scripts record what they saw under
// $E2E_OUT/<runId>; the assertions read those files and the API. No sleeps: every wait is a
// condition polled by waitFor.

import { realpathSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabases } from '../support/dialects.js'
import {
  FLOW,
  FLOWS_ROOT,
  probe,
  stage,
  startE2eServer,
  type E2eServer,
  type StepView,
} from './e2e-server.js'

const FLOW_DIR = realpathSync(path.join(FLOWS_ROOT, FLOW))

function byId(steps: StepView[]): Record<string, StepView> {
  return Object.fromEntries(steps.map((step) => [step.id, step]))
}

describe.each(testDatabases)('e2e lifecycle ($name)', (database) => {
  let e2e: E2eServer

  beforeAll(async () => {
    e2e = await startE2eServer(database)
  })

  afterAll(async () => {
    await e2e?.close()
  })

  it('runs a two-stage flow to completed, with exit codes, output and fields stored', async () => {
    const runId = await e2e.trigger({
      start: {
        post: [
          stage('greeting', false, [probe('greet-step', { env: { FIELDS: '{"message":"hello","n":1}' } })]),
        ],
      },
      'completed:greeting': {
        post: [stage('farewell', true, [probe('farewell-step', { env: { FIELDS: '{"message":"bye"}' } })])],
      },
    })
    const run = await e2e.waitForRun(runId, ['completed', 'failed'])
    expect(run.status).toBe('completed')
    expect(run.flowName).toBe(FLOW)
    expect(run.stages.map((s) => [s.name, s.status, s.final])).toEqual([
      ['greeting', 'completed', false],
      ['farewell', 'completed', true],
    ])

    const steps = byId(await e2e.getSteps(runId))
    expect(Object.keys(steps).sort()).toEqual(['farewell-step', 'greet-step'])
    for (const [id, step] of Object.entries(steps)) {
      expect(step).toMatchObject({
        status: 'completed',
        exitCode: 0,
        attempt: 1,
        retryCount: 0,
        name: 'probe',
      })
      expect(step.stdout).toContain(`probe ${id} attempt 1`)
      expect(step.stderr).toContain(`probe ${id} stderr line`)
    }
    expect(steps['greet-step']?.fields).toEqual({ message: 'hello', n: 1 })
    expect(steps['farewell-step']?.fields).toEqual({ message: 'bye' })
    expect(await e2e.getStep(runId, 'greet-step')).toMatchObject({ stage: 'greeting', exitCode: 0 })

    const listed = await e2e.expectJson<{ runs: Array<{ id: string }> }>(
      'GET',
      `/runs?flowName=${FLOW}&limit=100`,
      200,
    )
    expect(listed.runs.map((r) => r.id)).toContain(runId)
    const page = await e2e.expectJson<{ runs: unknown[]; pagination: unknown }>(
      'GET',
      `/runs?flowName=${FLOW}&status=completed&limit=1&offset=0&sortBy=createdAt&sortOrder=desc`,
      200,
    )
    expect(page.runs).toHaveLength(1)
    expect(page.pagination).toEqual({ total: expect.any(Number), limit: 1, offset: 0 })

    const patched = { name: 'greetings', description: 'said hello', output: { ok: true } }
    expect(await e2e.expectJson('PATCH', `/runs/${runId}`, 200, patched)).toMatchObject(patched)
    expect(await e2e.getRun(runId)).toMatchObject({ ...patched, status: 'completed' })
    const flow = await e2e.expectJson<{ steps: string[] }>('GET', `/flows/${FLOW}`, 200)
    expect(flow.steps).toEqual(expect.arrayContaining(['probe', 'worker']))
  })

  it('gives flow and step scripts their environment, cwd and a closed stdin, and no configuration', async () => {
    const runId = await e2e.trigger({
      start: {
        post: [
          stage('s1', false, [
            probe('probe-1', {
              env: { CUSTOM: 'a b "c" $d' },
            }),
          ]),
        ],
      },
      'completed:s1': { post: [stage('s2', true, [probe('probe-2')])] },
    })
    expect((await e2e.waitForRun(runId, ['completed', 'failed'])).status).toBe('completed')

    const calls = e2e.flowCalls(runId)
    expect(calls.map((c) => c.key)).toEqual(['start', 'completed:s1'])
    const [first, second] = calls
    expect(first?.env).toMatchObject({
      MAXQ_RUN_ID: runId,
      MAXQ_FLOW_NAME: FLOW,
      MAXQ_API: e2e.server.apiBase,
      MAXQ_COMPLETED_STAGE: '',
      MAXQ_LEASE: expect.stringMatching(new RegExp(`^flow/${runId}/\\d+/1$`)),
      E2E_OUT: e2e.outDir,
    })
    expect(second?.env.MAXQ_COMPLETED_STAGE).toBe('s1')
    for (const call of calls) {
      expect(call.failedStageSet).toBe(false)
      expect(realpathSync(call.cwd)).toBe(FLOW_DIR)
      expect(call.stdin).toBe('')
      expect(call.stdinRc).not.toBe(124) // 124: `timeout` had to stop a read of an open stdin
      expect(
        Object.keys(call.env)
          .filter((k) => k.startsWith('MAXQ_'))
          .sort(),
      ).toEqual([
        'MAXQ_API',
        'MAXQ_COMPLETED_STAGE',
        'MAXQ_FLOW_NAME',
        'MAXQ_LEASE',
        'MAXQ_LIB',
        'MAXQ_RUN_ID',
        'MAXQ_TOKEN',
      ])
    }

    for (const [stepId, stageName] of [
      ['probe-1', 's1'],
      ['probe-2', 's2'],
    ] as const) {
      const [record, ...more] = e2e.stepRecords(runId, stepId)
      expect(more).toEqual([])
      expect(record?.env).toMatchObject({
        MAXQ_RUN_ID: runId,
        MAXQ_STEP_ID: stepId,
        MAXQ_STEP_NAME: 'probe',
        MAXQ_FLOW_NAME: FLOW,
        MAXQ_STAGE: stageName,
        MAXQ_API: e2e.server.apiBase,
        MAXQ_LEASE: `step/${runId}/${stepId}/1`,
        E2E_OUT: e2e.outDir,
      })
      expect(
        Object.keys(record?.env ?? {})
          .filter((k) => k.startsWith('MAXQ_'))
          .sort(),
      ).toEqual([
        'MAXQ_API',
        'MAXQ_FLOW_NAME',
        'MAXQ_LEASE',
        'MAXQ_LIB',
        'MAXQ_RUN_ID',
        'MAXQ_STAGE',
        'MAXQ_STEP_ID',
        'MAXQ_STEP_NAME',
        'MAXQ_TOKEN',
      ])
      expect(realpathSync(record?.cwd ?? '')).toBe(path.join(FLOW_DIR, 'steps', 'probe'))
      expect(record?.stdin).toBe('')
      expect(record?.stdinRc).not.toBe(124)
    }
    expect(e2e.stepRecords(runId, 'probe-1')[0]?.env.CUSTOM).toBe('a b "c" $d')
  })

  it('runs a diamond in dependency order, with the two middle steps in parallel', async () => {
    // Listed in reverse: dependsOn may name a step listed later in the same stage.
    const runId = await e2e.trigger({
      start: {
        post: [
          stage('diamond', true, [
            probe('d', { dependsOn: ['b', 'c'] }),
            probe('c', { dependsOn: ['a'], env: { WAIT_FOR: 'b' } }),
            probe('b', { dependsOn: ['a'], env: { WAIT_FOR: 'c' } }),
            probe('a'),
          ]),
        ],
      },
    })
    expect((await e2e.waitForRun(runId, ['completed', 'failed'])).status).toBe('completed')

    // Lines of an append-only file, in the order the scripts wrote them.
    const order = e2e.events(runId).map((event) => `${event.kind} ${event.id}`)
    const at = (line: string) => {
      const index = order.indexOf(line)
      expect(index, `${line} in ${order.join(', ')}`).toBeGreaterThanOrEqual(0)
      return index
    }
    expect(at('start b')).toBeGreaterThan(at('end a'))
    expect(at('start c')).toBeGreaterThan(at('end a'))
    expect(at('start d')).toBeGreaterThan(at('end b'))
    expect(at('start d')).toBeGreaterThan(at('end c'))
    // Each of b and c saw the other running before it ended: they overlapped.
    expect((e2e.readOut(runId, 'overlap') ?? '').trim().split('\n').sort()).toEqual(['b yes', 'c yes'])
  })

  it('fans out one step name to many step ids, each with its own env', async () => {
    const workers = [0, 1, 2, 3, 4].map((shard) =>
      probe(`worker-${shard}`, { name: 'worker', env: { SHARD: String(shard) } }),
    )
    const runId = await e2e.trigger({ start: { post: [stage('fan', true, workers)] } })
    expect((await e2e.waitForRun(runId, ['completed', 'failed'])).status).toBe('completed')

    const seen = [0, 1, 2, 3, 4].map((shard) => {
      const records = e2e.stepRecords(runId, `worker-${shard}`)
      expect(records).toHaveLength(1)
      const record = records[0]
      expect(realpathSync(record?.cwd ?? '')).toBe(path.join(FLOW_DIR, 'steps', 'worker'))
      expect(record?.env).toMatchObject({ SHARD: String(shard), MAXQ_STEP_NAME: 'worker' })
      return record?.env.MAXQ_STEP_ID
    })
    expect(seen).toEqual(['worker-0', 'worker-1', 'worker-2', 'worker-3', 'worker-4'])
    expect(new Set(seen).size).toBe(5)
    const steps = await e2e.getSteps(runId)
    expect(steps.map((s) => [s.id, s.name, s.status])).toEqual(
      [0, 1, 2, 3, 4].map((shard) => [`worker-${shard}`, 'worker', 'completed']),
    )
  })

  it('merges posted fields and answers fields queries by step ids and field name', async () => {
    const runId = await e2e.trigger({
      start: {
        post: [
          stage('fields', true, [
            probe('a', { env: { FIELDS: '{"x":"from-a","n":1}', FIELDS2: '{"n":2,"extra":true}' } }),
            probe('b', { env: { FIELDS: '{"x":"from-b"}' } }),
            probe('c'),
          ]),
        ],
      },
    })
    expect((await e2e.waitForRun(runId, ['completed', 'failed'])).status).toBe('completed')
    type Fields = {
      fields: Array<{
        stepId: string
        stepName: string
        stageName: string
        status: string
        fields: unknown
        completedAt: unknown
      }>
    }
    const query = (q: string) => e2e.expectJson<Fields>('GET', `/runs/${runId}/fields${q}`, 200)

    const onlyA = await query('?stepId=a')
    expect(onlyA.fields).toEqual([
      {
        stepId: 'a',
        stepName: 'probe',
        stageName: 'fields',
        status: 'completed',
        fields: { x: 'from-a', n: 2, extra: true },
        completedAt: expect.any(Number),
      },
    ])
    expect((await query('?stepId=a,b')).fields.map((f) => f.stepId)).toEqual(['a', 'b'])
    expect((await query('?fieldName=x')).fields.map((f) => [f.stepId, f.fields])).toEqual([
      ['a', { x: 'from-a' }],
      ['b', { x: 'from-b' }],
    ])
    expect((await query('?stepId=b&fieldName=x')).fields.map((f) => f.fields)).toEqual([{ x: 'from-b' }])
    expect((await query('?stepId=nope')).fields).toEqual([])
    expect((await query('')).fields.map((f) => f.stepId)).toEqual(['a', 'b', 'c'])
  })

  it('calls the flow back after each stage, with MAXQ_FAILED_STAGE after a failure, and a recovery stage completes the run', async () => {
    const runId = await e2e.trigger({
      start: { post: [stage('one', false, [probe('one-a')])] },
      'completed:one': { post: [stage('two', false, [probe('two-a', { env: { EXIT: '3' } })])] },
      'failed:two': { post: [stage('recovery', true, [probe('rec-a')])] },
    })
    const run = await e2e.waitForRun(runId, ['completed', 'failed'])
    expect(run.status).toBe('completed')
    expect(run.stages.map((s) => [s.name, s.status])).toEqual([
      ['one', 'completed'],
      ['two', 'failed'],
      ['recovery', 'completed'],
    ])
    const calls = e2e.flowCalls(runId)
    expect(calls.map((c) => [c.key, c.env.MAXQ_COMPLETED_STAGE, c.failedStageSet])).toEqual([
      ['start', '', false],
      ['completed:one', 'one', false],
      ['failed:two', 'one', true],
    ])
    expect(calls[2]?.env.MAXQ_FAILED_STAGE).toBe('two')
    expect(await e2e.getStep(runId, 'two-a')).toMatchObject({ status: 'failed', exitCode: 3 })
  })

  it('retries a failing step up to maxRetries: completed within the budget', async () => {
    const runId = await e2e.trigger({
      start: { post: [stage('flaky', true, [probe('flaky', { maxRetries: 2, env: { FAIL_TIMES: '2' } })])] },
    })
    expect((await e2e.waitForRun(runId, ['completed', 'failed'])).status).toBe('completed')
    expect(await e2e.getStep(runId, 'flaky')).toMatchObject({
      status: 'completed',
      exitCode: 0,
      retryCount: 2,
      attempt: 3,
    })
    expect(e2e.stepRecords(runId, 'flaky')).toHaveLength(3)
  })

  it('retries a failing step up to maxRetries: failed when the budget is spent', async () => {
    const runId = await e2e.trigger({
      start: { post: [stage('flaky', true, [probe('flaky', { maxRetries: 1, env: { FAIL_TIMES: '2' } })])] },
    })
    const run = await e2e.waitForRun(runId, ['completed', 'failed'])
    expect(run.status).toBe('failed')
    expect(run.stages.map((s) => [s.name, s.status])).toEqual([['flaky', 'failed']])
    expect(await e2e.getStep(runId, 'flaky')).toMatchObject({
      status: 'failed',
      exitCode: 1,
      retryCount: 1,
      attempt: 2,
    })
    expect(e2e.stepRecords(runId, 'flaky')).toHaveLength(2)
  })

  it('fails the dependents of a failed step without running them', async () => {
    const runId = await e2e.trigger({
      start: {
        post: [
          stage('dep', true, [
            probe('a', { env: { EXIT: '1' } }),
            probe('b', { dependsOn: ['a'] }),
            probe('c', { dependsOn: ['a'] }),
          ]),
        ],
      },
    })
    expect((await e2e.waitForRun(runId, ['completed', 'failed'])).status).toBe('failed')
    const steps = byId(await e2e.getSteps(runId))
    expect(steps.a).toMatchObject({ status: 'failed', exitCode: 1 })
    for (const id of ['b', 'c']) {
      expect(steps[id]).toMatchObject({
        status: 'failed',
        error: { reason: 'dependency_failed', failedStep: 'a' },
      })
      expect(e2e.outExists(runId, `step-${id}.jsonl`)).toBe(false)
    }
    expect(
      e2e
        .events(runId)
        .filter((event) => event.kind === 'start')
        .map((event) => event.id),
    ).toEqual(['a'])
  })

  it('fails the run when the flow exits non-zero', async () => {
    const runId = await e2e.trigger({ start: { exit: 3 } })
    const run = await e2e.waitForRun(runId, ['completed', 'failed'])
    expect(run.status).toBe('failed')
    expect(e2e.flowCalls(runId).map((c) => c.key)).toEqual(['start'])
  })

  it('cancels the scheduled work when the flow exits non-zero after scheduling', async () => {
    const runId = await e2e.trigger({
      start: {
        post: [
          stage('doomed', true, [
            probe('held', { env: { HOLD: '1' } }),
            probe('after', { dependsOn: ['held'] }),
          ]),
        ],
        exit: 4,
      },
    })
    try {
      expect((await e2e.waitForRun(runId, ['completed', 'failed'])).status).toBe('failed')
      await e2e.waitForStep(runId, 'held', ['failed', 'cancelled'])
      const after = await e2e.waitForStep(runId, 'after', ['failed', 'cancelled'])
      expect(after.status).not.toBe('completed')
      expect(e2e.outExists(runId, 'step-after.jsonl')).toBe(false)
    } finally {
      e2e.writeOut(runId, 'release-held', '')
    }
  })

  it('retries a failed run without re-running its completed steps', async () => {
    const runId = await e2e.trigger({
      start: {
        post: [stage('work', true, [probe('a'), probe('b', { dependsOn: ['a'], env: { FAIL_TIMES: '1' } })])],
      },
    })
    expect((await e2e.waitForRun(runId, ['completed', 'failed'])).status).toBe('failed')
    expect(e2e.stepRecords(runId, 'b')).toHaveLength(1)

    await e2e.expectJson('POST', `/runs/${runId}/retry`, 200)
    expect((await e2e.waitForRun(runId, ['completed', 'failed'])).status).toBe('completed')
    expect(e2e.stepRecords(runId, 'a')).toHaveLength(1)
    expect(e2e.stepRecords(runId, 'b')).toHaveLength(2)
    const starts = e2e
      .events(runId)
      .filter((event) => event.kind === 'start')
      .map((event) => event.id)
    expect(starts).toEqual(['a', 'b', 'b'])
    expect(await e2e.getStep(runId, 'a')).toMatchObject({ status: 'completed', attempt: 1 })
  })

  it('treats a re-posted stage as idempotent and rejects a step id of another stage', async () => {
    const one = stage('one', false, [probe('h', { env: { HOLD: '1' } }), probe('k')])
    const runId = await e2e.trigger({
      start: { post: [one, one] },
      'completed:one': { post: [stage('two', true, [probe('t')])] },
    })
    try {
      await e2e.waitForOut(runId, 'holding-h')
      // The flow posted stage one twice; both answers name the same steps (each with its status at
      // the time: the second may find them running), and the run has one set of steps.
      type Scheduled = { stage: string; scheduled: number; steps: Array<{ id: string; name: string }> }
      const posts = (await e2e.waitForOut(runId, 'flow-posts.jsonl'))
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Scheduled)
      expect(posts).toHaveLength(2)
      const named = (post: Scheduled | undefined) => ({
        ...post,
        steps: post?.steps.map(({ id, name }) => ({ id, name })),
      })
      expect(named(posts[1])).toEqual(named(posts[0]))
      expect(named(posts[0])).toEqual({
        stage: 'one',
        scheduled: 2,
        steps: [
          { id: 'h', name: 'probe' },
          { id: 'k', name: 'probe' },
        ],
      })
      expect((await e2e.getSteps(runId)).map((s) => s.id).sort()).toEqual(['h', 'k'])

      // The same again from here.
      const again = await e2e.request('POST', `/runs/${runId}/steps`, one)
      expect(again.status).toBe(201)
      const reused = await e2e.request('POST', `/runs/${runId}/steps`, stage('other', true, [probe('k')]))
      expect(reused.status, JSON.stringify(reused.body)).toBe(400)
      expect(reused.body).toMatchObject({ code: 'DUPLICATE_STEP_ID' })
      expect((await e2e.getSteps(runId)).map((s) => s.id).sort()).toEqual(['h', 'k'])
    } finally {
      e2e.writeOut(runId, 'release-h', '')
    }
    expect((await e2e.waitForRun(runId, ['completed', 'failed'])).status).toBe('completed')
    expect((await e2e.getSteps(runId)).map((s) => s.id).sort()).toEqual(['h', 'k', 't'])
    expect(e2e.stepRecords(runId, 'k')).toHaveLength(1)
    expect(e2e.stepRecords(runId, 'h')).toHaveLength(1)
  })

  it('stores what a step logs beside the system events, and filters logs', async () => {
    const runId = await e2e.trigger({
      start: { post: [stage('logs', true, [probe('a', { env: { LOG: 'hello from a' } }), probe('b')])] },
    })
    expect((await e2e.waitForRun(runId, ['completed', 'failed'])).status).toBe('completed')
    type Log = {
      entityType: string
      entityId: string | null
      level: string
      message: string
      metadata: unknown
    }
    const logs = (q: string) => e2e.expectJson<{ logs: Log[] }>('GET', `/runs/${runId}/logs${q}`, 200)

    const all = (await logs('')).logs
    expect(all).toContainEqual(
      expect.objectContaining({
        entityType: 'step',
        entityId: 'a',
        level: 'warn',
        message: 'hello from a',
        metadata: { from: 'probe' },
      }),
    )
    expect(all.some((log) => log.entityType === 'run')).toBe(true)
    expect(all.some((log) => log.entityType === 'stage')).toBe(true)

    const warnings = (await logs('?level=warn')).logs
    expect(warnings.map((log) => log.message)).toContain('hello from a')
    expect(warnings.every((log) => log.level === 'warn')).toBe(true)
    const ofA = (await logs('?entityType=step&entityId=a')).logs
    expect(ofA.length).toBeGreaterThanOrEqual(1)
    expect(ofA.every((log) => log.entityType === 'step' && log.entityId === 'a')).toBe(true)
    const ofRun = (await logs('?entityType=run')).logs
    expect(ofRun.length).toBeGreaterThanOrEqual(1)
    expect(ofRun.every((log) => log.entityType === 'run')).toBe(true)
    expect((await logs('?limit=1')).logs).toHaveLength(1)
    expect((await e2e.request('GET', `/runs/${runId}/logs?level=loud`)).status).toBe(400)
  })

  it('starts no new step while the run is paused, and finishes after resume', async () => {
    const runId = await e2e.trigger({
      start: {
        post: [
          stage('p', true, [probe('gate', { env: { HOLD: '1' } }), probe('after', { dependsOn: ['gate'] })]),
        ],
      },
    })
    try {
      await e2e.waitForOut(runId, 'holding-gate')
      await e2e.expectJson('POST', `/runs/${runId}/pause`, 200)
      expect((await e2e.getRun(runId)).status).toBe('paused')
    } finally {
      e2e.writeOut(runId, 'release-gate', '')
    }
    await e2e.waitForStep(runId, 'gate', ['completed'])
    // A later run completing proves the scheduler kept ticking after the gate's exit was recorded.
    const barrier = await e2e.trigger({ start: { post: [stage('only', true, [probe('x')])] } })
    expect((await e2e.waitForRun(barrier, ['completed', 'failed'])).status).toBe('completed')
    expect(await e2e.getStep(runId, 'after')).toMatchObject({ status: 'pending' })
    expect(e2e.outExists(runId, 'step-after.jsonl')).toBe(false)
    expect((await e2e.getRun(runId)).status).toBe('paused')

    await e2e.expectJson('POST', `/runs/${runId}/resume`, 200)
    expect((await e2e.waitForRun(runId, ['completed', 'failed'])).status).toBe('completed')
    expect(e2e.stepRecords(runId, 'after')).toHaveLength(1)
  })
})
