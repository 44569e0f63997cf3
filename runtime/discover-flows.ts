// Flows are discovered from the filesystem: FLOWS_ROOT/<flow>/flow.sh and
// FLOWS_ROOT/<flow>/steps/<step>/step.sh, each an executable regular file. Symlinks are allowed
// only when their target stays inside FLOWS_ROOT, so a flow directory cannot expose other files.

import { constants } from 'node:fs'
import { access, readdir, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { isSafeName } from './safe-name.js'

export interface FlowInfo {
  name: string
  path: string
  flowScript: string
  steps: string[]
}

/** Every flow under flowsRoot, sorted by name; a missing root gives []. */
export async function discoverFlows(flowsRoot: string): Promise<FlowInfo[]> {
  const root = await resolveRoot(flowsRoot)
  if (root === null) return []
  const names = await listNames(root.given)
  const flows = await Promise.all(names.filter(isSafeName).map((name) => loadFlow(root, name)))
  return flows.filter((flow): flow is FlowInfo => flow !== null)
}

/** One flow by name; null for an unsafe name or a missing or non-executable flow.sh. */
export async function findFlow(flowsRoot: string, flowName: string): Promise<FlowInfo | null> {
  if (!isSafeName(flowName)) return null
  const root = await resolveRoot(flowsRoot)
  if (root === null) return null
  return loadFlow(root, flowName)
}

/**
 * The names among `stepNames` with no usable steps/<name>/step.sh in the flow (see the rules above),
 * each once. Only those scripts are looked at, and their checks run side by side: scheduling a stage
 * pays two rounds of file-system calls, not a walk of the flow.
 */
export async function missingStepScripts(
  flowsRoot: string,
  flowName: string,
  stepNames: readonly string[],
): Promise<string[]> {
  const names = [...new Set(stepNames)]
  if (!isSafeName(flowName)) return names
  const stepsDir = path.join(path.resolve(flowsRoot), flowName, 'steps')
  const [root, ...reals] = await Promise.all([
    resolveRoot(flowsRoot),
    ...names.map((name) =>
      isSafeName(name) ? realpath(path.join(stepsDir, name, 'step.sh')).catch(() => null) : null,
    ),
  ])
  const usable = await Promise.all(
    reals.map(
      (real) => root !== null && real !== null && isInside(root.real, real) && isExecutableFile(real),
    ),
  )
  return names.filter((_, i) => !usable[i])
}

interface Root {
  /** The root as configured (absolute); reported paths are under it. */
  given: string
  /** Its real path; every resolved script must be inside it. */
  real: string
}

async function resolveRoot(flowsRoot: string): Promise<Root | null> {
  const given = path.resolve(flowsRoot)
  try {
    return { given, real: await realpath(given) }
  } catch {
    return null
  }
}

async function loadFlow(root: Root, name: string): Promise<FlowInfo | null> {
  const flowPath = path.join(root.given, name)
  const flowScript = path.join(flowPath, 'flow.sh')
  if (!(await isExecutableInside(root.real, flowScript))) return null
  const stepsDir = path.join(flowPath, 'steps')
  const stepNames = (await listNames(stepsDir)).filter(isSafeName)
  const usable = await Promise.all(
    stepNames.map((step) => isExecutableInside(root.real, path.join(stepsDir, step, 'step.sh'))),
  )
  const steps = stepNames.filter((_, i) => usable[i])
  return { name, path: flowPath, flowScript, steps }
}

async function listNames(dir: string): Promise<string[]> {
  try {
    const names = await readdir(dir)
    return names.sort()
  } catch {
    return []
  }
}

/** An executable regular file whose real path lies inside realRoot. */
async function isExecutableInside(realRoot: string, file: string): Promise<boolean> {
  const real = await realpath(file).catch(() => null)
  return real !== null && isInside(realRoot, real) && isExecutableFile(real)
}

/** `real` (no symlinks left) is a regular file we may execute. */
async function isExecutableFile(real: string): Promise<boolean> {
  const [info, executable] = await Promise.all([
    stat(real).catch(() => null),
    access(real, constants.X_OK).then(
      () => true,
      () => false,
    ),
  ])
  return executable && info !== null && info.isFile()
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate)
  return (
    relative !== '' &&
    relative !== '..' &&
    !relative.startsWith(`..${path.sep}`) &&
    !path.isAbsolute(relative)
  )
}
