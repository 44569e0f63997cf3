// Checks a stage's step graph before anything is written. Pure, so it is tested on plain values.

import type { StepDefinition } from '../store.js'

export type StageGraphProblem =
  | { code: 'DUPLICATE_STEP_ID'; stepId: string; reason: string }
  | { code: 'UNKNOWN_DEPENDENCY'; stepId: string; dependsOn: string }
  | { code: 'DEPENDENCY_CYCLE'; cycle: string[] }

/**
 * `existing` are the step ids the run already has. A new step may depend on those or on steps of
 * the same request; the new steps must form no cycle (existing steps cannot depend on new ones).
 */
export function validateStageGraph(
  steps: StepDefinition[],
  existing: ReadonlySet<string>,
): StageGraphProblem | null {
  const ids = new Set<string>()
  for (const step of steps) {
    if (existing.has(step.id)) {
      return { code: 'DUPLICATE_STEP_ID', stepId: step.id, reason: 'Step ID already exists in this run' }
    }
    if (ids.has(step.id)) {
      return {
        code: 'DUPLICATE_STEP_ID',
        stepId: step.id,
        reason: 'Step ID appears more than once in this stage',
      }
    }
    ids.add(step.id)
  }
  for (const step of steps) {
    for (const dep of step.dependsOn ?? []) {
      if (!ids.has(dep) && !existing.has(dep))
        return { code: 'UNKNOWN_DEPENDENCY', stepId: step.id, dependsOn: dep }
    }
  }
  const cycle = findCycle(steps)
  return cycle ? { code: 'DEPENDENCY_CYCLE', cycle } : null
}

/** Iterative depth-first search over the new steps; answers one cycle as a path, or null. */
export function findCycle(steps: StepDefinition[]): string[] | null {
  const edges = new Map(steps.map((step) => [step.id, step.dependsOn ?? []]))
  const state = new Map<string, 'visiting' | 'done'>()
  for (const start of edges.keys()) {
    if (state.has(start)) continue
    const path: string[] = []
    const stack: Array<{ id: string; next: number }> = [{ id: start, next: 0 }]
    state.set(start, 'visiting')
    path.push(start)
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!
      const deps = edges.get(top.id) ?? []
      if (top.next >= deps.length) {
        state.set(top.id, 'done')
        stack.pop()
        path.pop()
        continue
      }
      const dep = deps[top.next++]!
      if (!edges.has(dep)) continue
      const seen = state.get(dep)
      if (seen === 'visiting') return [...path.slice(path.indexOf(dep)), dep]
      if (seen === undefined) {
        state.set(dep, 'visiting')
        path.push(dep)
        stack.push({ id: dep, next: 0 })
      }
    }
  }
  return null
}
