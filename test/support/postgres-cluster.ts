// A throwaway PostgreSQL cluster for the test run: initdb into a temp dir, start it on a free
// loopback port, answer its URL, and remove it afterwards. Used by test/support/global-setup.ts
// when MAXQ_TEST_DATABASE_URL does not name a server to use instead.

import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The OS user the server runs as when we are root (postgres refuses to run as root). */
const FALLBACK_OS_USER = 'maxqpg'

export interface PostgresCluster {
  /** Connection URL of the `postgres` database, as the `postgres` superuser. */
  url: string
  stop(): Promise<void>
}

/** The directory holding initdb and pg_ctl: the newest /usr/lib/postgresql/<n>/bin, else PATH. */
export function findPostgresBin(): string | null {
  const debianRoot = '/usr/lib/postgresql'
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot)
      .filter((name) => /^\d+(\.\d+)?$/.test(name))
      .sort((a, b) => Number(b) - Number(a))
    for (const version of versions) {
      const bin = join(debianRoot, version, 'bin')
      if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin
    }
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir
  }
  return null
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function uidOf(user: string): { uid: number; gid: number } | null {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${user}:`))
  if (line === undefined) return null
  const [, , uid, gid] = line.split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

/** As root, the OS user to run the server as: `postgres` if the package made it, else our own. */
async function serverUser(): Promise<{ name: string; uid: number; gid: number }> {
  for (const name of ['postgres', FALLBACK_OS_USER]) {
    const ids = uidOf(name)
    if (ids !== null) return { name, ...ids }
  }
  await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', FALLBACK_OS_USER])
  const ids = uidOf(FALLBACK_OS_USER)
  if (ids === null) throw new Error(`maxq tests: could not create the OS user ${FALLBACK_OS_USER}`)
  return { name: FALLBACK_OS_USER, ...ids }
}

export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = findPostgresBin()
  if (bin === null) {
    throw new Error(
      'maxq tests: PostgreSQL is required. Install its server binaries (initdb, pg_ctl; looked in ' +
        '/usr/lib/postgresql/*/bin and PATH) or set MAXQ_TEST_DATABASE_URL to a server to test against.',
    )
  }
  const dir = mkdtempSync(join(tmpdir(), 'maxq-pg-'))
  const dataDir = join(dir, 'data')
  const logFile = join(dir, 'server.log')
  const asRoot = process.getuid?.() === 0
  const user = asRoot ? await serverUser() : null
  if (user !== null) chownSync(dir, user.uid, user.gid)
  /** Runs a server binary, as the server's OS user when we are root. */
  const pg = (tool: string, args: string[]) =>
    user === null
      ? run(join(bin, tool), args)
      : run('runuser', ['-u', user.name, '--', join(bin, tool), ...args])

  try {
    await pg('initdb', [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ])
    let lastError: unknown = null
    // A port found free can be taken before the server binds it; try a few.
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort()
      const options = [
        `-p ${port}`,
        '-c listen_addresses=127.0.0.1',
        `-c unix_socket_directories=${dir}`,
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
        '-c max_connections=300',
      ].join(' ')
      try {
        await pg('pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', options])
        const url = `postgres://postgres@127.0.0.1:${port}/postgres`
        return {
          url,
          async stop() {
            await pg('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w']).catch(() => undefined)
            rmSync(dir, { recursive: true, force: true })
          },
        }
      } catch (error) {
        lastError = error
      }
    }
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : ''
    throw new Error(`maxq tests: could not start PostgreSQL: ${String(lastError)}\n${log}`)
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}
