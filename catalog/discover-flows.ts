// Flows are discovered from the filesystem: FLOWS_ROOT/<flow>/flow.sh and
// FLOWS_ROOT/<flow>/steps/<step>/step.sh, each an executable regular file. Symlinks are allowed
// only when their target stays inside FLOWS_ROOT, so a flow directory cannot expose other files.
//
// A directory that is not a usable flow or step is not hidden: discovery says why (the script is
// missing, not executable, has CRLF line endings in its #! line, or leads out of FLOWS_ROOT), so
// `GET /flows`, a trigger and a stage post can tell the author what to fix. Reasons name paths
// relative to the flow (or to FLOWS_ROOT), never the server's absolute paths.

import { constants } from 'node:fs'
import { access, lstat, open, readdir, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { isSafeName } from './safe-name.js'
import { closestName } from './closest-name.js'

/** Why a flow.sh or step.sh cannot be run. */
export type ScriptProblemKind =
  | 'missing'
  | 'not_a_file'
  | 'not_executable'
  | 'not_readable'
  | 'crlf_shebang'
  | 'outside_root'
  | 'invalid_name'

// Type aliases, not interfaces, so that they are assignable to the handlers' Json.
export type ScriptProblem = {
  kind: ScriptProblemKind
  /** One sentence for the flow's author, with the fix where there is one. */
  reason: string
}

/** A problem of a flow: of its flow.sh when `step` is absent, else of steps/<step>/step.sh. */
export type FlowProblem = ScriptProblem & { step?: string }

export interface FlowInfo {
  name: string
  /** The flow's directory (absolute, under the configured root): for the server's own use. */
  path: string
  flowScript: string
  /** Names of the usable steps, sorted. */
  steps: string[]
  /** flow.sh can be run; false when `problem` says why not. */
  usable: boolean
  problem: ScriptProblem | null
  /** `problem` (without `step`) and every unusable step's, in name order. */
  problems: FlowProblem[]
}

/** A step name a stage asked for that has no usable script, with the reason. */
export type StepScriptProblem = ScriptProblem & {
  name: string
  /** The script's path relative to FLOWS_ROOT. */
  path: string
}

/**
 * Every flow directory under flowsRoot, usable or not, sorted by name; a missing root gives [].
 * Entries that are not directories, and names starting with `.`, are not flows and are skipped.
 */
export async function discoverFlows(flowsRoot: string): Promise<FlowInfo[]> {
  const root = await resolveRoot(flowsRoot)
  if (root === null) return []
  const names = (await listNames(root.given)).filter((name) => !name.startsWith('.'))
  const flows = await Promise.all(names.map((name) => loadFlow(root, name, true)))
  return flows.filter((flow): flow is FlowInfo => flow !== null)
}

/**
 * One flow by name, usable or not; null when there is no such directory (or the name could leave
 * FLOWS_ROOT: it then names no directory of it either). With `steps: false` only flow.sh is
 * looked at (what a trigger needs), and `steps` is empty.
 */
export async function findFlow(
  flowsRoot: string,
  flowName: string,
  options: { steps?: boolean } = {},
): Promise<FlowInfo | null> {
  if (!isChildName(flowName)) return null
  const root = await resolveRoot(flowsRoot)
  if (root === null) return null
  return loadFlow(root, flowName, options.steps ?? true)
}

/**
 * The names among `stepNames` with no usable steps/<name>/step.sh in the flow, each once, with the
 * reason. Only those scripts are looked at, and their checks run side by side: scheduling a stage
 * pays a few rounds of file-system calls per distinct name, not a walk of the flow.
 */
export async function unusableStepScripts(
  flowsRoot: string,
  flowName: string,
  stepNames: readonly string[],
): Promise<StepScriptProblem[]> {
  const names = [...new Set(stepNames)]
  const root = isSafeName(flowName) ? await resolveRoot(flowsRoot) : null
  const found = await Promise.all(
    names.map(async (name): Promise<StepScriptProblem | null> => {
      const relative = `steps/${name}/step.sh`
      const at = { name, path: `${flowName}/${relative}` }
      if (!isSafeName(name)) return { ...at, ...invalidName('step', name) }
      if (root === null) return { ...at, kind: 'missing', reason: `${relative} does not exist` }
      const file = path.join(root.given, flowName, 'steps', name, 'step.sh')
      const problem = await diagnoseScript(root.real, file, relative)
      return problem === null ? null : { ...at, ...problem }
    }),
  )
  const problems = found.filter((problem): problem is StepScriptProblem => problem !== null)
  if (root === null || !problems.some((problem) => problem.kind === 'missing')) return problems
  // Only on a refusal: the flow's step names, for a typo's likely meaning.
  const known = await listNames(path.join(root.given, flowName, 'steps'))
  return problems.map((problem) => {
    const meant = problem.kind === 'missing' ? closestName(problem.name, known) : null
    return meant === null ? problem : { ...problem, reason: `${problem.reason} (did you mean ${meant}?)` }
  })
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

/** A name that can only denote a direct child of a directory, and is not hidden. */
function isChildName(name: string): boolean {
  return name !== '' && !name.startsWith('.') && !/[/\\\0]/.test(name)
}

/** The flow in root/<name>, or null when that is not a directory. */
async function loadFlow(root: Root, name: string, withSteps: boolean): Promise<FlowInfo | null> {
  const flowPath = path.join(root.given, name)
  const flowScript = path.join(flowPath, 'flow.sh')
  const [info, realDir] = await Promise.all([
    stat(flowPath).catch(() => null),
    realpath(flowPath).catch(() => null),
  ])
  if (info === null || !info.isDirectory()) return null
  const flow = { name, path: flowPath, flowScript }
  if (!isSafeName(name)) return unusable(flow, invalidName('flow', name), [])
  if (realDir === null || !isInside(root.real, realDir)) {
    const reason = `${name} is a symbolic link to a directory outside MAXQ_FLOWS_ROOT`
    return unusable(flow, { kind: 'outside_root', reason }, [])
  }
  const [problem, steps] = await Promise.all([
    diagnoseScript(root.real, flowScript, 'flow.sh'),
    withSteps ? loadSteps(root, path.join(flowPath, 'steps')) : [],
  ])
  const stepProblems = steps.flatMap((step) => (step.problem ? [{ step: step.name, ...step.problem }] : []))
  return {
    ...flow,
    steps: steps.filter((step) => step.problem === null).map((step) => step.name),
    usable: problem === null,
    problem,
    problems: problem === null ? stepProblems : [problem, ...stepProblems],
  }
}

function unusable(
  flow: Pick<FlowInfo, 'name' | 'path' | 'flowScript'>,
  problem: ScriptProblem,
  steps: string[],
): FlowInfo {
  return { ...flow, steps, usable: false, problem, problems: [problem] }
}

/** Each directory under steps/ (sorted), with the problem of its step.sh or null. */
async function loadSteps(
  root: Root,
  stepsDir: string,
): Promise<Array<{ name: string; problem: ScriptProblem | null }>> {
  const names = (await listNames(stepsDir)).filter((name) => !name.startsWith('.'))
  const steps = await Promise.all(
    names.map(async (name) => {
      // A file beside the step directories (a README) is not a step.
      const info = await stat(path.join(stepsDir, name)).catch(() => null)
      if (info === null || !info.isDirectory()) return null
      if (!isSafeName(name)) return { name, problem: invalidName('step', name) }
      const relative = `steps/${name}/step.sh`
      return {
        name,
        problem: await diagnoseScript(root.real, path.join(stepsDir, name, 'step.sh'), relative),
      }
    }),
  )
  return steps.filter((step) => step !== null)
}

function invalidName(what: 'flow' | 'step', name: string): ScriptProblem {
  return {
    kind: 'invalid_name',
    reason: `${JSON.stringify(name)} is not a valid ${what} name: use only letters, digits, _ and - (at most 128)`,
  }
}

async function listNames(dir: string): Promise<string[]> {
  try {
    const names = await readdir(dir)
    return names.sort()
  } catch {
    return []
  }
}

/**
 * Null when `file` is an executable regular file whose real path lies inside realRoot and whose
 * #! line can be run; otherwise what is wrong with it. `relative` is how reasons name it.
 */
async function diagnoseScript(
  realRoot: string,
  file: string,
  relative: string,
): Promise<ScriptProblem | null> {
  const real = await realpath(file).catch(() => null)
  if (real === null) {
    const link = await lstat(file).catch(() => null)
    const reason = link?.isSymbolicLink()
      ? `${relative} is a symbolic link to a file that does not exist`
      : `${relative} does not exist`
    return { kind: 'missing', reason }
  }
  if (!isInside(realRoot, real)) {
    return {
      kind: 'outside_root',
      reason: `${relative} leads (through a symbolic link) outside MAXQ_FLOWS_ROOT`,
    }
  }
  const [info, executable, head] = await Promise.all([
    stat(real).catch(() => null),
    access(real, constants.X_OK).then(
      () => true,
      () => false,
    ),
    readHead(real),
  ])
  if (info === null || !info.isFile())
    return { kind: 'not_a_file', reason: `${relative} is not a regular file` }
  if (!executable) {
    return { kind: 'not_executable', reason: `${relative} is not executable (chmod +x ${relative})` }
  }
  if (head === null) return { kind: 'not_readable', reason: `${relative} cannot be read` }
  if (hasCrlfShebang(head)) {
    return {
      kind: 'crlf_shebang',
      reason:
        `${relative} has Windows (CRLF) line endings in its #! line, so the system looks for an ` +
        `interpreter whose name ends in a carriage return; convert it (dos2unix ${relative}, or sed -i 's/\\r$//' ${relative})`,
    }
  }
  return null
}

/** Linux reads at most this many bytes of a #! line. */
const SHEBANG_MAX_BYTES = 256

/** The first bytes of a file, or null when it cannot be read. */
async function readHead(file: string): Promise<Buffer | null> {
  try {
    const handle = await open(file, 'r')
    try {
      const buffer = Buffer.alloc(SHEBANG_MAX_BYTES)
      const { bytesRead } = await handle.read(buffer, 0, SHEBANG_MAX_BYTES, 0)
      return buffer.subarray(0, bytesRead)
    } finally {
      await handle.close()
    }
  } catch {
    return null
  }
}

/** A `#!` line with a carriage return in it: the kernel would take it as part of the interpreter. */
function hasCrlfShebang(head: Buffer): boolean {
  if (head[0] !== 0x23 || head[1] !== 0x21) return false // "#!"
  const end = head.indexOf(0x0a)
  const line = end === -1 ? head : head.subarray(0, end)
  return line.includes(0x0d)
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
