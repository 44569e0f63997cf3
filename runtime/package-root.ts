// Where the installed package lives, whether this code runs compiled (dist/runtime/*.js) or from
// source under vitest (runtime/*.ts): the nearest ancestor holding package.json and runtime/maxq.sh.

import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: string | null = null

/** Absolute path of the MaxQ package root. Throws if the layout is broken (a packaging bug). */
export function packageRoot(): string {
  if (cached !== null) return cached
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'runtime', 'maxq.sh'))) {
      cached = dir
      return dir
    }
    const parent = path.dirname(dir)
    if (parent === dir)
      throw new Error('maxq: cannot find the package root (package.json with runtime/maxq.sh)')
    dir = parent
  }
}
