// A stage's steps as the nodes and edges of the drawing. A fan-out of 1,000 steps cannot be read
// as 1,000 boxes, so steps that share a name and the same (already grouped) dependencies become one
// node with counts by status: `process` × 200 after `split`, and a `process` → `upload` chain of
// 200 pairs becomes two nodes, because each upload's dependency is grouped first. Only
// dependencies inside the stage are drawn; earlier stages had to complete first anyway.

export interface DagStep {
  id: string
  name: string
  status: string
  dependsOn: string[]
}

export interface DagNode {
  /** The step id, or `group:<n>` for a group. */
  id: string
  label: string
  /** One step id for a single step; the members of a group, in order. */
  stepIds: string[]
  group: boolean
  status: string
  counts: Record<string, number>
}

export interface DagGraph {
  nodes: DagNode[]
  edges: Array<{ from: string; to: string }>
}

/** Fewer steps than this that share a name and dependencies are drawn one by one. */
export const GROUP_MIN_STEPS = 4

/** The order in which a group's colour is decided: the most urgent status present wins. */
const STATUS_PRECEDENCE = ['failed', 'running', 'pending', 'cancelled', 'completed']

export function groupStatus(counts: Record<string, number>): string {
  return STATUS_PRECEDENCE.find((status) => (counts[status] ?? 0) > 0) ?? 'pending'
}

export function groupSteps(steps: DagStep[]): DagGraph {
  const byId = new Map(steps.map((step) => [step.id, step]))
  const inStage = (step: DagStep) => step.dependsOn.filter((dep) => byId.has(dep))

  // Levels by longest path from a step without dependencies. A cycle cannot be scheduled (the API
  // refuses it), but a step left over is put last rather than lost.
  const level = new Map<string, number>()
  const levelOf = (step: DagStep, seen: Set<string>): number => {
    const known = level.get(step.id)
    if (known !== undefined) return known
    if (seen.has(step.id)) return 0
    seen.add(step.id)
    let value = 0
    for (const dep of inStage(step)) value = Math.max(value, levelOf(byId.get(dep)!, seen) + 1)
    level.set(step.id, value)
    return value
  }
  const byLevel: DagStep[][] = []
  for (const step of steps) {
    const at = levelOf(step, new Set())
    ;(byLevel[at] ??= []).push(step)
  }

  // Steps of one group share their dependencies' nodes, so they are all on one level: deciding the
  // groups level by level means every dependency's node is known when a step is keyed.
  const nodeOf = new Map<string, string>()
  const nodes: DagNode[] = []
  let groups = 0
  for (const levelSteps of byLevel) {
    const byKey = new Map<string, DagStep[]>()
    for (const step of levelSteps ?? []) {
      const deps = [...new Set(inStage(step).map((dep) => nodeOf.get(dep) ?? dep))].sort()
      const key = `${step.name}\n${deps.join('\n')}`
      const members = byKey.get(key)
      if (members === undefined) byKey.set(key, [step])
      else members.push(step)
    }
    for (const members of byKey.values()) {
      if (members.length >= GROUP_MIN_STEPS) {
        const id = `group:${groups++}`
        const counts: Record<string, number> = {}
        for (const step of members) {
          counts[step.status] = (counts[step.status] ?? 0) + 1
          nodeOf.set(step.id, id)
        }
        nodes.push({
          id,
          label: `${members[0]!.name} ×${members.length}`,
          stepIds: members.map((step) => step.id),
          group: true,
          status: groupStatus(counts),
          counts,
        })
      } else {
        for (const step of members) {
          nodeOf.set(step.id, step.id)
          nodes.push({
            id: step.id,
            label: step.id === step.name ? step.id : `${step.id} (${step.name})`,
            stepIds: [step.id],
            group: false,
            status: step.status,
            counts: { [step.status]: 1 },
          })
        }
      }
    }
  }

  const edges = new Map<string, { from: string; to: string }>()
  for (const step of steps) {
    const to = nodeOf.get(step.id)!
    for (const dep of inStage(step)) {
      const from = nodeOf.get(dep)!
      if (from !== to) edges.set(`${from}\n${to}`, { from, to })
    }
  }
  return { nodes, edges: [...edges.values()] }
}
