// End to end (issue 18): the server's log says each run transition at `info`, one line each: the
// run started, a stage done, a step failed with its reason (and a dependent failed with it), the
// run ended with its status, reason and duration. Read from the local runner's stderr, as text on
// SQLite and as LOG_FORMAT=json on PostgreSQL; and with `maxq serve` and one-shot `maxq tick`s,
// whose supervisors report exits through the API, from the process that commits each transition.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresDatabase, sqliteDatabase, type TestDatabase } from '../support/dialects.js'
import { runCli } from '../support/run-cli.js'
import { waitFor } from '../support/wait-for.js'
import { probe, stage, startE2eServer, type E2eServer } from './e2e-server.js'

const cases: { database: TestDatabase; format: 'text' | 'json' }[] = [
  { database: sqliteDatabase, format: 'text' },
  { database: postgresDatabase, format: 'json' },
]

describe.each(cases)('e2e run transition log ($database.name, $format)', ({ database, format }) => {
  let e2e: E2eServer

  beforeAll(async () => {
    e2e = await startE2eServer(database, { env: { LOG_FORMAT: format, LOG_LEVEL: 'info' } })
  })

  afterAll(async () => {
    await e2e?.close()
  })

  it('logs run started, stage done, step failed with its reason, and run ended', async () => {
    const runId = await e2e.trigger({
      start: {
        post: [
          stage('prepare', false, [probe('fine')]),
          stage('work', true, [
            probe('ok'),
            probe('bad', { env: { EXIT: '3' } }),
            probe('after', { dependsOn: ['bad'] }),
          ]),
        ],
      },
      // Told the stage failed, the flow schedules nothing more: the run fails (stage_failed).
      'failed:work': { exit: 0 },
    })
    expect((await e2e.waitForRun(runId, ['completed', 'failed'], 60_000)).status).toBe('failed')
    const linesOfRun = () =>
      e2e.server
        .logs()
        .split('\n')
        .filter((line) => line.includes(runId))
    await waitFor(
      () =>
        linesOfRun().some(
          (line) => line.includes('run_ended') || / failed \(stage_failed\) after /.test(line),
        ),
      { timeoutMs: 30_000, message: 'no run-ended line in the server log' },
    )
    const ofRun = linesOfRun()

    if (format === 'text') {
      const expected = [
        new RegExp(`INFO maxq: run ${runId} \\(scripted\\) started$`),
        new RegExp(`INFO maxq: run ${runId} \\(scripted\\): stage prepare completed$`),
        new RegExp(`INFO maxq: run ${runId} \\(scripted\\): step bad attempt 1 failed: exit code 3$`),
        new RegExp(`INFO maxq: run ${runId}: step after failed: dependency failed \\(bad failed first\\)$`),
        new RegExp(`INFO maxq: run ${runId} \\(scripted\\): stage work failed$`),
        new RegExp(
          `INFO maxq: run ${runId} \\(scripted\\) failed \\(stage_failed\\) after \\d+(\\.\\d)? (s|min)`,
        ),
      ]
      for (const pattern of expected) {
        expect(
          ofRun.filter((line) => pattern.test(line)),
          `${String(pattern)} in\n${ofRun.join('\n')}`,
        ).toHaveLength(1)
      }
      return
    }

    const objects = ofRun.map((line) => JSON.parse(line) as Record<string, unknown>)
    const one = (fields: Record<string, unknown>) => {
      const found = objects.filter((object) =>
        Object.entries(fields).every(([key, value]) => object[key] === value),
      )
      expect(found, `${JSON.stringify(fields)} in\n${ofRun.join('\n')}`).toHaveLength(1)
      return found[0]!
    }
    const common = { level: 'info', runId }
    expect(one({ ...common, event: 'run_started', flow: 'scripted' }).message).toBe(
      `run ${runId} (scripted) started`,
    )
    one({ ...common, event: 'stage_done', stage: 'prepare', status: 'completed' })
    one({ ...common, event: 'step_failed', step: 'bad', reason: 'exit_code', exitCode: 3, retry: null })
    one({ ...common, event: 'step_failed', step: 'after', reason: 'dependency_failed', failedStep: 'bad' })
    one({ ...common, event: 'stage_done', stage: 'work', status: 'failed' })
    const ended = one({ ...common, event: 'run_ended', status: 'failed', reason: 'stage_failed' })
    expect(ended.durationMs).toBeGreaterThan(0)
  })
})

describe('e2e run transition log with maxq serve and one-shot ticks (sqlite)', () => {
  let e2e: E2eServer

  beforeAll(async () => {
    e2e = await startE2eServer(sqliteDatabase, { args: ['bin/maxq.js', 'serve'] })
  })

  afterAll(async () => {
    await e2e?.close()
  })

  it('logs the exits reported through the API in the API process, the claim in the tick', async () => {
    const runId = await e2e.trigger({
      start: { post: [stage('work', true, [probe('bad', { env: { EXIT: '3' } })])] },
      'failed:work': { exit: 0 },
    })
    let ticks = ''
    await waitFor(
      async () => {
        const tick = await runCli(e2e.server.env, ['tick'])
        ticks += tick.output
        expect(tick.code, tick.output).toBe(0)
        return ['completed', 'failed'].includes((await e2e.getRun(runId)).status)
      },
      { timeoutMs: 60_000, intervalMs: 1, message: `run ${runId} did not end under one-shot ticks` },
    )
    expect(ticks).toContain(`INFO maxq: run ${runId} (scripted) started`)
    const serve = () => e2e.server.logs()
    await waitFor(() => serve().includes(`run ${runId} (scripted) failed (stage_failed) after`), {
      timeoutMs: 30_000,
      message: `no run-ended line in:\n${serve()}`,
    })
    expect(serve()).toContain(`INFO maxq: run ${runId} (scripted): step bad attempt 1 failed: exit code 3\n`)
    expect(serve()).toContain(`INFO maxq: run ${runId} (scripted): stage work failed\n`)
  })
})
