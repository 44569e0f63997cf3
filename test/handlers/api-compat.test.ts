// Wire compatibility with the original MaxQ: one test per row of ../shared/API-COMPAT.md (the
// answers table, then the inputs that must be refused), on SQLite and on PostgreSQL. An answer may
// carry more fields than the original's, never fewer, and never one of the same name with another
// type. The environment scripts receive (the last section of that page) is checked end to end in
// test/e2e/lifecycle.test.ts, where real scripts record it.

import { chmod } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Run } from '../../db/types.js'
import { testDatabases } from '../support/dialects.js'
import { claimFlowCall, completeRun, failRunByFlowExit } from '../support/drive-run.js'
import {
  createHandlerApp,
  expectApiError,
  type ApiResponse,
  type HandlerApp,
} from '../support/handler-app.js'
import { writeFlow } from '../support/temp-flows.js'

type Body = Record<string, unknown>

describe.each(testDatabases)('API-COMPAT.md on $name', (database) => {
  let api: HandlerApp
  let now: number

  beforeEach(async () => {
    now = 1_700_000_000_000
    // Every request sees a later millisecond, so "newest" is well defined.
    api = await createHandlerApp({ database, clock: { now: () => ++now } })
  })

  afterEach(async () => {
    await api.close()
  })

  const ok = (res: ApiResponse, status = 200): Body => {
    expect({ status: res.status, body: res.body }).toMatchObject({ status })
    return res.body as Body
  }
  const trigger = async (flowName = 'hello', body: unknown = {}): Promise<Run> =>
    ok(await api.send('POST', `/api/v1/flows/${flowName}/runs`, body), 201) as unknown as Run
  const schedule = (runId: string, body: unknown) => api.send('POST', `/api/v1/runs/${runId}/steps`, body)
  const steps = (ids: string[], name = 'greet') =>
    ids.map((id) => ({ id, name, dependsOn: [], maxRetries: 0 }))

  describe('answers', () => {
    it('GET /flows: {flows: [{name, path?, steps}]}, path relative to the flows root', async () => {
      const body = ok(await api.send('GET', '/api/v1/flows'))
      const flows = body.flows as Body[]
      expect(flows.map((flow) => [flow.name, flow.path, flow.steps])).toEqual([
        ['hello', 'hello', ['farewell', 'greet']],
        ['other', 'other', ['work']],
      ])
      for (const flow of flows) expect(path.isAbsolute(String(flow.path))).toBe(false)
      expect(JSON.stringify(body)).not.toContain(api.flowsRoot)
    })

    it('trigger: 201 with the run {id, flowName, status: pending, input, metadata, createdAt, startedAt: null, completedAt: null}', async () => {
      const input = { any: 'json data' }
      const metadata = { user: 'alice' }
      for (const res of [
        await api.send('POST', '/api/v1/flows/hello/runs', { input, metadata }),
        await api.send('POST', '/api/v1/runs', { flowName: 'hello', input, metadata }),
      ]) {
        const run = ok(res, 201)
        expect(run).toMatchObject({
          flowName: 'hello',
          status: 'pending',
          input,
          metadata,
          startedAt: null,
          completedAt: null,
        })
        expect(typeof run.id).toBe('string')
        expect(typeof run.createdAt).toBe('number')
      }
      // Without input or metadata the keys are still there, not missing: input null, and metadata
      // with what started the run (metadata.trigger, README "Scheduled flows").
      const bare = ok(await api.send('POST', '/api/v1/flows/hello/runs', {}), 201)
      expect(bare).toMatchObject({
        input: null,
        metadata: { trigger: 'api' },
        startedAt: null,
        completedAt: null,
      })
    })

    it('GET /runs/{run}: the run plus output, error, terminationReason, stages [{name, status, final, createdAt, completedAt}]', async () => {
      const run = await trigger()
      ok(await schedule(run.id, { stage: 'greeting', final: false, steps: steps(['greet-1']) }), 201)
      const got = ok(await api.send('GET', `/api/v1/runs/${run.id}`))
      expect(got).toMatchObject({
        id: run.id,
        flowName: 'hello',
        input: null,
        metadata: { trigger: 'api' },
        output: null,
        error: null,
        terminationReason: null,
        createdAt: run.createdAt,
        completedAt: null,
      })
      expect(got).toHaveProperty('status')
      expect(got).toHaveProperty('startedAt')
      expect(got.stages).toEqual([
        expect.objectContaining({
          name: 'greeting',
          status: expect.any(String),
          final: false,
          createdAt: expect.any(Number),
          completedAt: null,
        }),
      ])
    })

    it('GET /runs: {runs, pagination: {total, limit, offset}}, limit 20 by default and at most 100, newest first', async () => {
      const created: string[] = []
      for (let i = 0; i < 21; i++) created.push((await trigger()).id)
      const body = ok(await api.send('GET', '/api/v1/runs'))
      expect(body.pagination).toEqual({ total: 21, limit: 20, offset: 0 })
      const runs = body.runs as Run[]
      expect(runs.map((run) => run.id)).toEqual(created.slice(1).reverse())
      expect(runs[0]).toMatchObject({ flowName: 'hello', status: 'pending', createdAt: expect.any(Number) })
      expect(ok(await api.send('GET', '/api/v1/runs?limit=100')).pagination).toMatchObject({ limit: 100 })
      expectApiError(await api.send('GET', '/api/v1/runs?limit=101'), 400, 'VALIDATION_FAILED')
      const asc = ok(await api.send('GET', '/api/v1/runs?sortOrder=asc&limit=2')).runs as Run[]
      expect(asc.map((run) => run.id)).toEqual(created.slice(0, 2))
    })

    it('POST /runs/{run}/steps: 201 {stage, scheduled: <count>, steps: [{id, name, status}]}, one per step', async () => {
      const run = await trigger()
      const body = ok(
        await schedule(run.id, {
          stage: 'data-fetch',
          final: false,
          steps: [...steps(['fetch-news'], 'greet'), ...steps(['fetch-prices'], 'farewell')],
        }),
        201,
      )
      expect(body).toEqual({
        stage: 'data-fetch',
        scheduled: 2,
        steps: [
          { id: 'fetch-news', name: 'greet', status: 'pending' },
          { id: 'fetch-prices', name: 'farewell', status: 'pending' },
        ],
      })
    })

    it('GET /runs/{run}/steps: {steps, pagination}, filters stage, status, name; limit 100 by default; ascending', async () => {
      const run = await trigger()
      const ids = Array.from({ length: 101 }, (_, i) => `s-${String(i).padStart(3, '0')}`)
      ok(await schedule(run.id, { stage: 'wide', final: false, steps: steps(ids) }), 201)
      ok(await schedule(run.id, { stage: 'last', final: true, steps: steps(['bye'], 'farewell') }), 201)

      const first = ok(await api.send('GET', `/api/v1/runs/${run.id}/steps`))
      expect(first.pagination).toEqual({ total: 102, limit: 100, offset: 0 })
      expect((first.steps as Body[]).map((step) => step.id)).toEqual(ids.slice(0, 100))
      expect((first.steps as Body[])[0]).toMatchObject({
        id: 's-000',
        name: 'greet',
        stage: 'wide',
        status: 'pending',
      })
      const rest = ok(await api.send('GET', `/api/v1/runs/${run.id}/steps?offset=100`))
      expect((rest.steps as Body[]).map((step) => step.id)).toEqual(['s-100', 'bye'])

      const only = async (query: string) =>
        (ok(await api.send('GET', `/api/v1/runs/${run.id}/steps?${query}`)).steps as Body[]).map((s) => s.id)
      expect(await only('stage=last')).toEqual(['bye'])
      expect(await only('name=farewell')).toEqual(['bye'])
      expect(await only('status=pending&stage=wide&limit=2')).toEqual(['s-000', 's-001'])
      expect(await only('status=completed')).toEqual([])
    })

    it('POST …/fields: 200 {id: <stepId>, runId, fields: <after the merge>, completedAt}', async () => {
      const run = await trigger()
      ok(await schedule(run.id, { stage: 'one', final: true, steps: steps(['fetch-news']) }), 201)
      const url = `/api/v1/runs/${run.id}/steps/fetch-news/fields`
      ok(await api.send('POST', url, { fields: { count: 1, source: 'reuters' } }))
      const body = ok(await api.send('POST', url, { fields: { count: 42 } }))
      expect(body).toMatchObject({
        id: 'fetch-news',
        runId: run.id,
        fields: { count: 42, source: 'reuters' },
        completedAt: null,
      })
    })

    it('GET /runs/{run}/fields: {fields: [{stepId, stepName, stageName, status, fields, completedAt}]}; fieldName keeps only that field', async () => {
      const run = await trigger()
      ok(await schedule(run.id, { stage: 'one', final: true, steps: steps(['a', 'b', 'c']) }), 201)
      ok(await api.send('POST', `/api/v1/runs/${run.id}/steps/a/fields`, { fields: { score: 0.75, n: 10 } }))
      ok(await api.send('POST', `/api/v1/runs/${run.id}/steps/b/fields`, { fields: { n: 3 } }))
      const all = ok(await api.send('GET', `/api/v1/runs/${run.id}/fields?stepId=a`))
      expect(all).toEqual({
        fields: [
          {
            stepId: 'a',
            stepName: 'greet',
            stageName: 'one',
            status: 'pending',
            fields: { score: 0.75, n: 10 },
            completedAt: null,
          },
        ],
      })
      const scores = ok(await api.send('GET', `/api/v1/runs/${run.id}/fields?fieldName=score`))
      expect((scores.fields as Body[]).map((row) => [row.stepId, row.fields])).toEqual([
        ['a', { score: 0.75 }],
      ])
    })

    it('POST /runs/{run}/abort: 200 {message, processesKilled, alreadyCompleted}; idempotent', async () => {
      const run = await trigger()
      await claimFlowCall(api.store, run.id)
      const first = ok(await api.send('POST', `/api/v1/runs/${run.id}/abort`))
      expect(first).toEqual({
        message: expect.any(String),
        processesKilled: expect.any(Number),
        alreadyCompleted: false,
      })
      const again = ok(await api.send('POST', `/api/v1/runs/${run.id}/abort`))
      expect(again).toMatchObject({ message: expect.any(String), alreadyCompleted: true })
      expect(await api.store.getRun(run.id)).toMatchObject({ status: 'failed', terminationReason: 'aborted' })
    })

    it('POST /runs/{run}/retry: 200 {run: <as reset: pending, terminationReason null, completedAt null>, message}; 400 completed, 409 running', async () => {
      const aborted = await trigger()
      await claimFlowCall(api.store, aborted.id)
      ok(await api.send('POST', `/api/v1/runs/${aborted.id}/abort`))
      const body = ok(await api.send('POST', `/api/v1/runs/${aborted.id}/retry`))
      expect(body).toEqual({ run: expect.any(Object), message: expect.any(String) })
      expect(body.run).toMatchObject({
        id: aborted.id,
        flowName: 'hello',
        status: 'pending',
        terminationReason: null,
        completedAt: null,
      })

      const failed = await trigger()
      await failRunByFlowExit(api.store, failed.id)
      expect(ok(await api.send('POST', `/api/v1/runs/${failed.id}/retry`)).run).toMatchObject({
        status: 'pending',
        terminationReason: null,
        completedAt: null,
      })

      const running = await trigger()
      await claimFlowCall(api.store, running.id)
      expectApiError(await api.send('POST', `/api/v1/runs/${running.id}/retry`), 409, 'RUN_STILL_RUNNING')
      const completed = await trigger()
      await completeRun(api.store, completed.id, 'greet')
      expectApiError(await api.send('POST', `/api/v1/runs/${completed.id}/retry`), 400, 'RUN_COMPLETED')
    })

    it('POST /runs/{run}/logs: 201 {id, runId, entityType, entityId, level, message, metadata, createdAt}, id a string', async () => {
      const run = await trigger()
      const entry = {
        entityType: 'step',
        entityId: 'fetch-data',
        level: 'error',
        message: 'Step failed after retries',
        metadata: { exitCode: 1, retryCount: 3 },
      }
      const body = ok(await api.send('POST', `/api/v1/runs/${run.id}/logs`, entry), 201)
      expect(body).toEqual({ ...entry, id: expect.any(String), runId: run.id, createdAt: expect.any(Number) })
    })

    it('GET /runs/{run}/logs: {logs}, newest first; limit 100 by default, at most 1000; filters entityType, entityId, level', async () => {
      const run = await trigger()
      const url = `/api/v1/runs/${run.id}/logs`
      for (let i = 0; i < 101; i++) {
        const entry = { entityType: 'step', entityId: i % 2 ? 'odd' : 'even', level: i % 2 ? 'warn' : 'info' }
        ok(await api.send('POST', url, { ...entry, message: `entry ${i}` }), 201)
      }
      const logs = ok(await api.send('GET', url)).logs as Body[]
      expect(logs).toHaveLength(100)
      expect(logs.slice(0, 2).map((log) => log.message)).toEqual(['entry 100', 'entry 99'])
      const times = logs.map((log) => Number(log.createdAt))
      expect(times).toEqual([...times].sort((a, b) => b - a))
      for (const log of logs) expect(typeof log.id).toBe('string')

      const all = ok(await api.send('GET', `${url}?limit=1000`)).logs as Body[]
      // The 101 entries and the run's own "run triggered" event, oldest last.
      expect(all).toHaveLength(102)
      expect(all.at(-1)).toMatchObject({ entityType: 'run', message: 'run triggered' })
      expectApiError(await api.send('GET', `${url}?limit=1001`), 400, 'VALIDATION_FAILED')

      const warnings = ok(await api.send('GET', `${url}?entityType=step&entityId=odd&level=warn&limit=3`))
      expect((warnings.logs as Body[]).map((log) => log.message)).toEqual([
        'entry 99',
        'entry 97',
        'entry 95',
      ])
      const ofRun = ok(await api.send('GET', `${url}?entityType=run`)).logs as Body[]
      expect(ofRun.map((log) => log.message)).toEqual(['run triggered'])
    })
  })

  describe('inputs that must be refused', () => {
    it('log entries: entityType run|stage|step|flow, level debug|info|warn|error, message required; also as filters', async () => {
      const run = await trigger()
      const url = `/api/v1/runs/${run.id}/logs`
      for (const entry of [
        { message: 'x', entityType: 'job' },
        { message: 'x', entityType: 'RUN' },
        { message: 'x', level: 'fatal' },
        { level: 'info' },
        { message: '' },
      ]) {
        expectApiError(await api.send('POST', url, entry), 400, 'VALIDATION_FAILED')
      }
      for (const type of ['run', 'stage', 'step', 'flow']) {
        ok(await api.send('POST', url, { message: `about a ${type}`, entityType: type }), 201)
      }
      for (const level of ['debug', 'info', 'warn', 'error']) {
        ok(await api.send('POST', url, { message: `at ${level}`, level }), 201)
      }
      expectApiError(await api.send('GET', `${url}?entityType=job`), 400, 'VALIDATION_FAILED')
      expectApiError(await api.send('GET', `${url}?level=fatal`), 400, 'VALIDATION_FAILED')
    })

    it('a stage: INVALID_STEP_ID and DUPLICATE_STEP_ID with {stepId, reason}; STEP_NOT_FOUND with {name, reason}', async () => {
      const run = await trigger()
      const invalid = expectApiError(
        await schedule(run.id, { stage: 's', final: false, steps: steps(['fetch news!']) }),
        400,
        'INVALID_STEP_ID',
      )
      expect(invalid.details).toMatchObject({ stepId: 'fetch news!', reason: expect.any(String) })

      const twice = expectApiError(
        await schedule(run.id, { stage: 's', final: false, steps: steps(['a', 'a']) }),
        400,
        'DUPLICATE_STEP_ID',
      )
      expect(twice.details).toMatchObject({ stepId: 'a', reason: expect.any(String) })
      ok(await schedule(run.id, { stage: 's', final: false, steps: steps(['a']) }), 201)
      const reused = expectApiError(
        await schedule(run.id, { stage: 't', final: true, steps: steps(['a']) }),
        400,
        'DUPLICATE_STEP_ID',
      )
      expect(reused.details).toMatchObject({ stepId: 'a', reason: expect.any(String) })

      const missing = expectApiError(
        await schedule(run.id, { stage: 't', final: true, steps: steps(['m'], 'fetch_news') }),
        400,
        'STEP_NOT_FOUND',
      )
      expect(missing.details).toMatchObject({ name: 'fetch_news', reason: expect.any(String) })

      await writeFlow(api.flowsRoot, 'hello', { flow: 'exit 0', steps: { plain: 'exit 0' } })
      await chmod(path.join(api.flowsRoot, 'hello', 'steps', 'plain', 'step.sh'), 0o644)
      const notExecutable = expectApiError(
        await schedule(run.id, { stage: 't', final: true, steps: steps(['p'], 'plain') }),
        400,
        'STEP_NOT_FOUND',
      )
      expect(notExecutable.details).toMatchObject({
        name: 'plain',
        reason: expect.stringContaining('not executable'),
      })
    })

    it('errors are always {error, code, details}', async () => {
      const run = await trigger()
      // expectApiError checks the exact keys: these differ in status, code and where they are made.
      expectApiError(await api.send('GET', '/api/v1/no/such/route'), 404, 'NOT_FOUND')
      expectApiError(await api.send('GET', '/api/v1/runs/no-such-run'), 404, 'RUN_NOT_FOUND')
      expectApiError(await api.send('POST', '/api/v1/flows/absent/runs', {}), 404, 'FLOW_NOT_FOUND')
      expectApiError(await api.send('POST', '/api/v1/flows/hello/runs', '{"input": '), 400, 'INVALID_JSON')
      expectApiError(await schedule(run.id, { stage: 's' }), 400, 'VALIDATION_FAILED')
      expectApiError(
        await api.send('POST', `/api/v1/runs/${run.id}/steps/ghost/fields`, { fields: {} }),
        400,
        'STEP_NOT_FOUND',
      )
      expectApiError(await api.send('POST', `/api/v1/runs/${run.id}/retry`), 409, 'RUN_STILL_RUNNING')
    })
  })
})
