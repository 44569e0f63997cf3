// `npm start` builds only when a source is newer than the last build: an unchanged checkout starts
// in well under a second instead of waiting for tsc. The sources are what tsconfig.build.json
// compiles, plus the two tsconfig files and package.json; the posix_spawn addon's own build script
// already skips an up-to-date addon.

import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
// Written only after a build that succeeded: a failed one is tried again at the next start.
const stamp = path.join(root, 'dist', '.built')

function mtime(file) {
  try {
    return statSync(file).mtimeMs
  } catch {
    return null
  }
}

/** The newest modification time under `entry` (a file or a directory), skipping build output. */
function newest(entry) {
  const stat = statSync(entry, { throwIfNoEntry: false })
  if (stat === undefined) return 0
  if (!stat.isDirectory()) return stat.mtimeMs
  let latest = stat.mtimeMs
  for (const name of readdirSync(entry)) {
    if (name === 'node_modules' || name === 'build' || name === 'results') continue
    latest = Math.max(latest, newest(path.join(entry, name)))
  }
  return latest
}

const built = mtime(stamp)
const config = JSON.parse(readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8'))
const sources = [...config.include, 'tsconfig.json', 'tsconfig.build.json', 'package.json']
const stale = built === null || sources.some((source) => newest(path.join(root, source)) > built)
if (stale) {
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
  writeFileSync(stamp, `${new Date().toISOString()}\n`)
}
