// The detached supervisor runs the compiled dist/runtime/supervisor-main.js, so this needs a build
// (`npm test` builds first); run directly with vitest before a build, it is skipped.
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchSupervisor } from '../../runtime/launch-supervisor.js'
import { packageRoot } from '../../runtime/package-root.js'
import type { ExitReportBody } from '../../runtime/process-job.js'
import { TEST_SPAWNER } from '../support/spawner.js'
import { waitFor } from '../support/wait-for.js'

const built = existsSync(path.join(packageRoot(), 'dist', 'runtime', 'supervisor-main.js'))
const reports: ExitReportBody[] = []
let server: Server
let apiBase: string
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'maxq-launch-'))
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      if (req.url === '/api/v1/leases/exit') reports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ accepted: true, lost: [] }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  await rm(dir, { recursive: true, force: true })
})

describe.skipIf(!built)('launchSupervisor', () => {
  it('runs the jobs in a detached process that reports each exit', async () => {
    const command = path.join(dir, 'step.sh')
    await writeFile(command, '#!/bin/bash\necho "from $MAXQ_STEP_ID"\nexit 5\n')
    await chmod(command, 0o755)
    const jobsBefore = (await readdir(tmpdir())).filter((name) => name.startsWith('maxq-jobs-'))
    const pid = launchSupervisor({
      apiBase,
      workerId: 'detached',
      graceMs: 100,
      spawner: TEST_SPAWNER,
      jobs: [{ lease: 'step/r/s/1', command, cwd: dir, env: { MAXQ_STEP_ID: 's' }, timeoutSeconds: null }],
    })
    expect(pid).toBeGreaterThan(0)
    const report = await waitFor(() => reports.find((r) => r.lease === 'step/r/s/1'), {
      message: 'no exit report',
    })
    expect(report).toMatchObject({ exitCode: 5, stdout: 'from s\n' })
    // The jobs file (environments may hold secrets) is gone once the supervisor has read it.
    const jobsAfter = (await readdir(tmpdir())).filter((name) => name.startsWith('maxq-jobs-'))
    expect(jobsAfter.filter((name) => !jobsBefore.includes(name))).toEqual([])
  })
})
