// GET /ui/static/dashboard.css and /ui/static/dashboard.js: the dashboard's one stylesheet and one
// client script, as files (the Content-Security-Policy allows no inline script or style). The
// stylesheet is read from the checkout (handlers/ui/static/), the script from what `npm run build`
// compiled of handlers/ui/client/dashboard.ts; both are read once per process.

import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Hono } from 'hono'
import type { UiEnv } from '../ui-env.js'

/** The checkout's root: the nearest folder above this file with a package.json (source or dist/). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error('handlers/ui: no package.json above the dashboard')
    dir = parent
  }
  return dir
}

const FILES: Record<string, { file: string[]; type: string }> = {
  'dashboard.css': { file: ['handlers', 'ui', 'static', 'dashboard.css'], type: 'text/css; charset=utf-8' },
  'dashboard.js': {
    file: ['dist', 'handlers', 'ui', 'client', 'dashboard.js'],
    type: 'text/javascript; charset=utf-8',
  },
}

const cache = new Map<string, Promise<string | null>>()

function load(name: string, file: string[]): Promise<string | null> {
  let loaded = cache.get(name)
  if (loaded === undefined) {
    // A file that is missing now (not built yet) is looked for again next time.
    loaded = readFile(path.join(packageRoot(), ...file), 'utf8').catch(() => {
      cache.delete(name)
      return null
    })
    cache.set(name, loaded)
  }
  return loaded
}

export const staticFiles = new Hono<UiEnv>().get('/ui/static/:name', async (c) => {
  const entry = FILES[c.req.param('name')]
  if (entry === undefined) return c.text('Not found', 404)
  const text = await load(c.req.param('name'), entry.file)
  if (text === null) return c.text(`Missing ${entry.file.join('/')}: run npm run build`, 404)
  c.header('Content-Type', entry.type)
  c.header('Cache-Control', 'no-cache')
  return c.body(text)
})
