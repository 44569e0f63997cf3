// One `maxq` command run to its end as its own OS process (`maxq tick`, `maxq prune`, …): its exit
// code, everything it wrote to stdout and stderr, and its stdout alone (what `--json` prints).

import { spawn } from 'node:child_process'
import { PACKAGE_ROOT } from './start-server.js'

export function runCli(
  env: Record<string, string>,
  args: string[],
): Promise<{ code: number | null; output: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/maxq.js', ...args], {
      cwd: PACKAGE_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      stdout += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('error', reject)
    // 'close', not 'exit': the process may exit before everything it wrote has been read.
    child.once('close', (code) => resolve({ code, output, stdout }))
  })
}
