#!/usr/bin/env node
// The `maxq` command: runs the compiled CLI (npm install builds it; so do npm start and npm test).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const cli = new URL('../dist/cli/main.js', import.meta.url)
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('maxq: dist/ is missing; run `npm run build` in the MaxQ checkout first\n')
  process.exit(1)
}
await import(cli.href)
