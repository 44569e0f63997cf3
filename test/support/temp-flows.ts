// Flow directories on disk for tests: FLOWS_ROOT/<flow>/flow.sh and steps/<name>/step.sh, all
// executable. Scripts without a shebang get `#!/usr/bin/env bash` so a test can pass one-liners.

import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

export interface FlowSpec {
  /** Contents of flow.sh. */
  flow: string
  /** Step name → contents of steps/<name>/step.sh. */
  steps: Record<string, string>
}

/** A fresh empty directory under the OS temp dir; remove it with removeDir. */
export async function createTempDir(prefix = 'maxq-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix))
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
}

/** Writes one flow under root (which is created if missing); returns the flow's directory. */
export async function writeFlow(root: string, name: string, spec: FlowSpec): Promise<string> {
  const flowDir = path.join(root, name)
  await writeScript(path.join(flowDir, 'flow.sh'), spec.flow)
  for (const [stepName, script] of Object.entries(spec.steps)) {
    await writeScript(path.join(flowDir, 'steps', stepName, 'step.sh'), script)
  }
  return flowDir
}

/** Writes an executable script, creating its directory. */
export async function writeScript(file: string, contents: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  const text = contents.startsWith('#!') ? contents : `#!/usr/bin/env bash\n${contents}`
  await writeFile(file, text.endsWith('\n') ? text : `${text}\n`)
  await chmod(file, 0o755)
}
