// A dead supervisor's attempts come back at once, on both databases: a real detached supervisor
// (dist/runtime/supervisor-main.js; `npm run build` first) runs a claimed step's script, which
// starts a background child; the supervisor is SIGKILLed; the recovery kills both processes and
// only then queues the attempt again, without waiting for the lease.

import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Store } from '../../db/store.js'
import { launchSupervisor } from '../../runtime/launch-supervisor.js'
import { packageRoot } from '../../runtime/package-root.js'
import {
  formatRecord,
  hostIdentity,
  recordFile,
  SupervisorRegistry,
} from '../../runtime/supervisor-registry.js'
import { isRunning, readProcStat } from '../../runtime/proc-stat.js'
import { recoverDeadSupervisors, registryPlace } from '../../scheduler/recover-dead-supervisors.js'
import { testDatabases } from '../support/dialects.js'
import { TEST_SPAWNER } from '../support/spawner.js'
import { storePerTest } from '../support/store-per-test.js'
import { waitFor } from '../support/wait-for.js'

const built = existsSync(path.join(packageRoot(), 'dist', 'runtime', 'supervisor-main.js'))
const running = (pid: number): boolean => isRunning(readProcStat(pid))

describe.skipIf(!built || hostIdentity() === null).each(testDatabases)(
  'recovering a dead supervisor’s attempts on $name',
  (database) => {
    let store: Store
    storePerTest(database, (opened) => (store = opened))
    let dir: string
    let now = 1_000_000

    beforeEach(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'maxq-recover-'))
    })
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true })
    })

    it('kills the script and its background child, then queues the attempt again at once', async () => {
      const run = await store.createRun({ flowName: 'demo' }, ++now)
      const [call] = (await store.claimWork({ workerId: 'w', flowCallLimit: 1, stepLimit: 0 }, ++now))
        .flowCalls
      await store.scheduleStage(
        run.id,
        { stage: 'only', final: true, steps: [{ id: 's', name: 'work' }] },
        ++now,
      )
      const [step] = (await store.claimWork({ workerId: 'w', flowCallLimit: 0, stepLimit: 1 }, ++now)).steps
      if (call === undefined || step === undefined) throw new Error('nothing claimed')

      const command = path.join(dir, 'step.sh')
      await writeFile(
        command,
        `#!/bin/bash\necho $$ > "${dir}/shell"\nsleep 600 &\necho $! > "${dir}/bg"\nwait\n`,
      )
      await chmod(command, 0o755)
      const place = await registryPlace(store, path.join(dir, 'runtime'))
      expect(await registryPlace(store, place.dir)).toEqual(place)
      const supervisor = launchSupervisor({
        apiBase: 'http://127.0.0.1:9/api/v1',
        workerId: 'w',
        graceMs: 100,
        spawner: TEST_SPAWNER,
        registry: place,
        // The flow call's lease is handed over but never started: it comes back too.
        jobs: [
          { lease: step.lease, command, cwd: dir, env: {}, timeoutSeconds: null },
          {
            lease: call.lease,
            command: path.join(dir, 'missing.sh'),
            cwd: dir,
            env: {},
            timeoutSeconds: null,
          },
        ],
      })
      const pids = await waitFor(() => {
        const files = ['shell', 'bg'].map((name) => path.join(dir, name))
        if (!files.every((file) => existsSync(file) && readFileSync(file, 'utf8').endsWith('\n'))) return null
        return files.map((file) => Number(readFileSync(file, 'utf8')))
      })
      const [shell, background] = pids ?? []

      // Alive: nothing to recover.
      expect(await recoverDeadSupervisors(store, place, () => ++now)).toEqual({
        supervisors: 0,
        killed: 0,
        reaped: 0,
      })
      process.kill(supervisor, 'SIGKILL')
      await waitFor(() => !running(supervisor), { message: 'the supervisor did not die' })

      const recovered = await recoverDeadSupervisors(store, place, () => ++now)
      expect([running(shell ?? 0), running(background ?? 0)]).toEqual([false, false])
      expect(recovered.supervisors).toBe(1)
      expect(recovered.killed).toBe(1)
      // The flow call may have ended already (its script did not exist): then only the step.
      expect(recovered.reaped).toBeGreaterThanOrEqual(1)
      expect(readdirSync(place.dir)).toEqual([])

      // The step is claimable again now, hours before its lease would have expired.
      const again = await store.claimWork({ workerId: 'w2', flowCallLimit: 0, stepLimit: 1 }, ++now)
      expect(again.steps.map((s) => [s.stepId, s.attempt])).toEqual([['s', 2]])
      expect(await recoverDeadSupervisors(store, place, () => ++now)).toEqual({
        supervisors: 0,
        killed: 0,
        reaped: 0,
      })
    })

    it('hands back what a worker killed between a claim’s commit and the spawn had claimed', async () => {
      const run = await store.createRun({ flowName: 'demo' }, ++now)
      await store.claimWork({ workerId: 'other', flowCallLimit: 1, stepLimit: 0 }, ++now)
      await store.scheduleStage(
        run.id,
        { stage: 'only', final: true, steps: [{ id: 's', name: 'work' }] },
        ++now,
      )
      const [step] = (await store.claimWork({ workerId: 'doomed', flowCallLimit: 0, stepLimit: 1 }, ++now))
        .steps
      expect(step?.attempt).toBe(1)
      // The worker's record says who it was and nothing more: it died before spawning anything.
      const place = await registryPlace(store, path.join(dir, 'runtime'))
      const doomed = spawn('sleep', ['600'], { stdio: 'ignore' })
      const stat = readProcStat(doomed.pid ?? 0)
      const host = hostIdentity()
      if (stat === null || host === null || doomed.pid === undefined) throw new Error('no /proc')
      const header = { version: 1 as const, pid: doomed.pid, startTime: stat.startTime, ...host }
      SupervisorRegistry.open({ place, workerId: 'prepare' })?.close()
      writeFileSync(
        recordFile(place.dir, doomed.pid, stat.startTime),
        formatRecord({ ...header, scope: place.scope, workerId: 'doomed', entries: [] }),
      )
      await new Promise((resolve) => {
        doomed.once('exit', resolve)
        doomed.kill('SIGKILL')
      })

      expect(await recoverDeadSupervisors(store, place, () => ++now)).toEqual({
        supervisors: 1,
        killed: 0,
        reaped: 1,
      })
      const again = await store.claimWork({ workerId: 'w2', flowCallLimit: 0, stepLimit: 1 }, ++now)
      expect(again.steps.map((s) => [s.stepId, s.attempt])).toEqual([['s', 2]])
      // The flow call another worker holds is not touched.
      const calls = await store.listFlowCalls(run.id)
      expect(calls.ok && calls.value.map((call) => call.status)).toEqual(['running'])
    })
  },
)
