import { chmod } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Run, Step } from '../../db/types.js'
import { failRunByFlowExit } from '../support/drive-run.js'
import { writeScript } from '../support/temp-flows.js'
import {
  createHandlerApp,
  expectApiError,
  type ApiResponse,
  type HandlerApp,
} from '../support/handler-app.js'

let api: HandlerApp
let run: Run

beforeEach(async () => {
  api = await createHandlerApp()
  const res = await api.send('POST', '/api/v1/flows/hello/runs', {})
  run = res.body as Run
})

afterEach(async () => {
  await api.close()
})

const schedule = (body: unknown, runId = run.id): Promise<ApiResponse> =>
  api.send('POST', `/api/v1/runs/${runId}/steps`, body)

const stage = (steps: unknown[], extra: Record<string, unknown> = {}) => ({
  stage: 'greeting',
  final: false,
  steps,
  ...extra,
})

async function stepIds(runId = run.id): Promise<string[]> {
  const outcome = await api.store.listSteps(runId)
  if (!outcome.ok) throw new Error(outcome.code)
  return outcome.value.map((s) => s.id).sort()
}

/** Asserts the error and that the run still has exactly the steps it had before. */
async function expectRejected(res: ApiResponse, status: number, code: string, before: string[] = []) {
  const body = expectApiError(res, status, code)
  expect(await stepIds()).toEqual(before)
  return body
}

describe('POST /api/v1/runs/:runId/steps', () => {
  it('schedules a stage: 201 {stage, scheduled, steps}, steps stored pending, scheduler woken', async () => {
    const wakesBefore = api.wakes()
    const res = await schedule(
      stage([
        {
          id: 'greet-1',
          name: 'greet',
          dependsOn: [],
          maxRetries: 2,
          env: { WHO: 'world' },
          timeoutSeconds: 30,
        },
        { id: 'bye-1', name: 'farewell', dependsOn: ['greet-1'] },
      ]),
    )
    expect(res.status).toBe(201)
    expect(res.body).toEqual({
      stage: 'greeting',
      scheduled: 2,
      steps: [
        { id: 'greet-1', name: 'greet', status: 'pending' },
        { id: 'bye-1', name: 'farewell', status: 'pending' },
      ],
    })
    expect(api.wakes()).toBe(wakesBefore + 1)

    const outcome = await api.store.getStep(run.id, 'greet-1')
    expect(outcome.ok && outcome.value).toMatchObject({
      name: 'greet',
      stage: 'greeting',
      status: 'pending',
      maxRetries: 2,
      env: { WHO: 'world' },
      timeoutSeconds: 30,
    } satisfies Partial<Step>)
    const second = await api.store.getStep(run.id, 'bye-1')
    expect(second.ok && second.value).toMatchObject({ dependsOn: ['greet-1'], maxRetries: 0 })
  })

  it('stores retryDelaySeconds and retryBackoff, and the server defaults for a step without them', async () => {
    const res = await schedule(
      stage([
        { id: 'fixed', name: 'greet', maxRetries: 2, retryDelaySeconds: 2.5, retryBackoff: 'fixed' },
        { id: 'plain', name: 'greet' },
      ]),
    )
    expect(res.status).toBe(201)
    const fixed = await api.store.getStep(run.id, 'fixed')
    expect(fixed.ok && fixed.value).toMatchObject({ retryDelaySeconds: 2.5, retryBackoff: 'fixed' })
    // MAXQ_RETRY_DELAY_SECONDS and MAXQ_RETRY_BACKOFF unset: retries at once.
    const plain = await api.store.getStep(run.id, 'plain')
    expect(plain.ok && plain.value).toMatchObject({ retryDelaySeconds: 0, retryBackoff: 'exponential' })
  })

  it("takes a step's missing retry delay from the server's MAXQ_RETRY_DELAY_SECONDS and MAXQ_RETRY_BACKOFF", async () => {
    const configured = await createHandlerApp({
      retryDefaults: { retryDelayMs: 30_000, retryBackoff: 'fixed' },
    })
    try {
      const created = (await configured.send('POST', '/api/v1/flows/hello/runs', {})).body as Run
      const res = await configured.send(
        'POST',
        `/api/v1/runs/${created.id}/steps`,
        stage([
          { id: 'a', name: 'greet' },
          { id: 'b', name: 'greet', retryDelaySeconds: 0 },
        ]),
      )
      expect(res.status).toBe(201)
      const a = await configured.store.getStep(created.id, 'a')
      expect(a.ok && a.value).toMatchObject({ retryDelaySeconds: 30, retryBackoff: 'fixed' })
      const b = await configured.store.getStep(created.id, 'b')
      expect(b.ok && b.value).toMatchObject({ retryDelaySeconds: 0, retryBackoff: 'fixed' })
    } finally {
      await configured.close()
    }
  })

  it('accepts the body from curl -d without a JSON Content-Type', async () => {
    const res = await api.send(
      'POST',
      `/api/v1/runs/${run.id}/steps`,
      JSON.stringify(stage([{ id: 'greet-step', name: 'greet', dependsOn: [], maxRetries: 0 }])),
      { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } },
    )
    expect(res.status).toBe(201)
    expect(await stepIds()).toEqual(['greet-step'])
  })

  it('is idempotent when the same stage is posted again with the same ids', async () => {
    const body = stage([{ id: 'greet-1', name: 'greet' }])
    const first = await schedule(body)
    const again = await schedule(body)
    expect(again.status).toBe(201)
    expect(again.body).toEqual(first.body)
    expect(await stepIds()).toEqual(['greet-1'])
  })

  it('lets a later stage depend on a step of an earlier one', async () => {
    await schedule(stage([{ id: 'greet-1', name: 'greet' }]))
    const res = await schedule({
      stage: 'farewell',
      final: true,
      steps: [{ id: 'bye-1', name: 'farewell', dependsOn: ['greet-1'] }],
    })
    expect(res.status).toBe(201)
    expect(await stepIds()).toEqual(['bye-1', 'greet-1'])
  })

  it('accepts 10000 steps in one stage', async () => {
    const steps = Array.from({ length: 10_000 }, (_, i) => ({ id: `s-${i}`, name: 'greet' }))
    const res = await schedule(stage(steps))
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ scheduled: 10_000 })
  })

  describe('rejects bad input with 400 and writes nothing', () => {
    it.each([
      ['a missing stage', { final: false, steps: [{ id: 'a', name: 'greet' }] }, 'stage'],
      ['an empty stage', stage([{ id: 'a', name: 'greet' }], { stage: '' }), 'stage'],
      ['a stage name over 255', stage([{ id: 'a', name: 'greet' }], { stage: 'x'.repeat(256) }), 'stage'],
      ['a missing final', { stage: 'x', steps: [{ id: 'a', name: 'greet' }] }, 'final'],
      ['a string final', stage([{ id: 'a', name: 'greet' }], { final: 'yes' }), 'final'],
      ['no steps', stage([]), 'steps'],
      ['steps not an array', stage([], { steps: { id: 'a' } }), 'steps'],
      [
        'more than 10000 steps',
        stage(Array.from({ length: 10_001 }, (_, i) => ({ id: `s${i}`, name: 'greet' }))),
        'steps',
      ],
      ['a missing id', stage([{ name: 'greet' }]), 'steps.0.id'],
      ['a missing name', stage([{ id: 'a' }]), 'steps.0.name'],
      ['maxRetries over 100', stage([{ id: 'a', name: 'greet', maxRetries: 101 }]), 'steps.0.maxRetries'],
      ['negative maxRetries', stage([{ id: 'a', name: 'greet', maxRetries: -1 }]), 'steps.0.maxRetries'],
      ['fractional maxRetries', stage([{ id: 'a', name: 'greet', maxRetries: 1.5 }]), 'steps.0.maxRetries'],
      ['timeoutSeconds 0', stage([{ id: 'a', name: 'greet', timeoutSeconds: 0 }]), 'steps.0.timeoutSeconds'],
      [
        'fractional timeoutSeconds',
        stage([{ id: 'a', name: 'greet', timeoutSeconds: 0.5 }]),
        'steps.0.timeoutSeconds',
      ],
      ['dependsOn not a list', stage([{ id: 'a', name: 'greet', dependsOn: 'b' }]), 'steps.0.dependsOn'],
      [
        'a negative retryDelaySeconds',
        stage([{ id: 'a', name: 'greet', retryDelaySeconds: -1 }]),
        'steps.0.retryDelaySeconds',
      ],
      [
        'a string retryDelaySeconds',
        stage([{ id: 'a', name: 'greet', retryDelaySeconds: '5' }]),
        'steps.0.retryDelaySeconds',
      ],
      [
        'a retryDelaySeconds over a day',
        stage([{ id: 'a', name: 'greet', retryDelaySeconds: 86_401 }]),
        'steps.0.retryDelaySeconds',
      ],
      [
        'an unknown retryBackoff',
        stage([{ id: 'a', name: 'greet', retryBackoff: 'linear' }]),
        'steps.0.retryBackoff',
      ],
      ['a number env value', stage([{ id: 'a', name: 'greet', env: { N: 1 } }]), 'steps.0.env.N'],
      [
        'an env key that is no shell identifier',
        stage([{ id: 'a', name: 'greet', env: { 'A-B': 'x' } }]),
        'steps.0.env.A-B',
      ],
      [
        'an env key starting with a digit',
        stage([{ id: 'a', name: 'greet', env: { '1A': 'x' } }]),
        'steps.0.env.1A',
      ],
      // A NUL anywhere refuses the body, naming where it was: no database can store it.
      ['an env value with NUL', stage([{ id: 'a', name: 'greet', env: { A: 'x\u0000y' } }]), 'steps.0.env.A'],
    ])('VALIDATION_FAILED for %s', async (_label, body, path) => {
      const err = await expectRejected(await schedule(body), 400, 'VALIDATION_FAILED')
      expect(err.details).toContainEqual({ path, message: expect.any(String) })
    })

    it.each([['has space'], ['dot.ted'], [''], ['x'.repeat(256)], ['ünïcode'], ['a/b']])(
      'INVALID_STEP_ID for %j, naming it in details',
      async (id) => {
        const err = await expectRejected(
          await schedule(
            stage([
              { id: 'fine', name: 'greet' },
              { id, name: 'greet' },
            ]),
          ),
          400,
          'INVALID_STEP_ID',
        )
        expect(err.details).toEqual({
          stepId: id,
          index: 1,
          reason: expect.stringContaining('^[a-zA-Z0-9_-]+$'),
        })
      },
    )

    it('DUPLICATE_STEP_ID for an id repeated within the request', async () => {
      const err = await expectRejected(
        await schedule(
          stage([
            { id: 'a', name: 'greet' },
            { id: 'a', name: 'farewell' },
          ]),
        ),
        400,
        'DUPLICATE_STEP_ID',
      )
      expect(err.details).toMatchObject({ stepId: 'a', reason: expect.any(String) })
    })

    it('DUPLICATE_STEP_ID for an id already used by another stage of the run', async () => {
      await schedule(stage([{ id: 'a', name: 'greet' }]))
      const err = await expectRejected(
        await schedule({ stage: 'later', final: true, steps: [{ id: 'a', name: 'greet' }] }),
        400,
        'DUPLICATE_STEP_ID',
        ['a'],
      )
      expect(err.details).toEqual({ stepId: 'a', reason: 'Step ID already exists in this run' })
    })

    it.each([['../greet'], ['.'], ['..'], ['steps/greet'], ['']])(
      'INVALID_STEP_NAME for %j',
      async (name) => {
        const err = await expectRejected(await schedule(stage([{ id: 'a', name }])), 400, 'INVALID_STEP_NAME')
        expect(err.details).toMatchObject({ stepId: 'a', stepName: name })
      },
    )

    it('STEP_NOT_FOUND for a name that is not a step of the run’s flow, with the reason', async () => {
      // `work` is a step of the flow `other`, not of `hello`.
      const err = await expectRejected(
        await schedule(
          stage([
            { id: 'a', name: 'greet' },
            { id: 'b', name: 'work' },
            { id: 'c', name: 'nope' },
          ]),
        ),
        400,
        'STEP_NOT_FOUND',
      )
      const missing = (name: string) => ({
        name,
        path: `hello/steps/${name}/step.sh`,
        kind: 'missing',
        reason: `steps/${name}/step.sh does not exist`,
      })
      expect(err.details).toEqual({
        ...missing('work'),
        flowName: 'hello',
        missing: ['work', 'nope'],
        problems: [missing('work'), missing('nope')],
      })
      expect(err.error).toBe('Step work cannot be run: steps/work/step.sh does not exist (and 1 more)')
    })

    it('STEP_NOT_FOUND for a step.sh that is not executable or has a CRLF #! line', async () => {
      const steps = path.join(api.flowsRoot, 'hello', 'steps')
      await chmod(path.join(steps, 'greet', 'step.sh'), 0o644)
      const notExecutable = await expectRejected(
        await schedule(stage([{ id: 'a', name: 'greet' }])),
        400,
        'STEP_NOT_FOUND',
      )
      expect(notExecutable.details).toMatchObject({ name: 'greet', kind: 'not_executable' })

      await writeScript(path.join(steps, 'farewell', 'step.sh'), '#!/bin/bash\r\necho bye\r\n')
      const crlf = await expectRejected(
        await schedule(stage([{ id: 'b', name: 'farewell' }])),
        400,
        'STEP_NOT_FOUND',
      )
      expect(crlf.details).toMatchObject({
        name: 'farewell',
        kind: 'crlf_shebang',
        reason: expect.stringContaining('CRLF'),
      })
    })

    it('UNKNOWN_DEPENDENCY for a dependsOn id the run does not have', async () => {
      await expectRejected(
        await schedule(stage([{ id: 'a', name: 'greet', dependsOn: ['ghost'] }])),
        400,
        'UNKNOWN_DEPENDENCY',
      )
    })

    it('DEPENDENCY_CYCLE for steps that depend on each other', async () => {
      await expectRejected(
        await schedule(
          stage([
            { id: 'a', name: 'greet', dependsOn: ['b'] },
            { id: 'b', name: 'greet', dependsOn: ['a'] },
          ]),
        ),
        400,
        'DEPENDENCY_CYCLE',
      )
      await expectRejected(
        await schedule(stage([{ id: 'self', name: 'greet', dependsOn: ['self'] }])),
        400,
        'DEPENDENCY_CYCLE',
      )
    })

    it('INVALID_JSON for a malformed body', async () => {
      await expectRejected(await schedule('{"stage": "x", "steps": ['), 400, 'INVALID_JSON')
    })
  })

  it('answers 409 STAGE_CONFLICT for the same stage name with other step ids', async () => {
    await schedule(stage([{ id: 'a', name: 'greet' }]))
    await expectRejected(await schedule(stage([{ id: 'b', name: 'greet' }])), 409, 'STAGE_CONFLICT', ['a'])
  })

  it('answers 409 RUN_NOT_ACTIVE on a failed run', async () => {
    await failRunByFlowExit(api.store, run.id)
    await expectRejected(await schedule(stage([{ id: 'a', name: 'greet' }])), 409, 'RUN_NOT_ACTIVE')
  })

  it('answers 404 RUN_NOT_FOUND for an unknown run', async () => {
    const err = expectApiError(
      await schedule(stage([{ id: 'a', name: 'greet' }]), 'no-such-run'),
      404,
      'RUN_NOT_FOUND',
    )
    expect(err.details).toEqual({ runId: 'no-such-run' })
  })
})
