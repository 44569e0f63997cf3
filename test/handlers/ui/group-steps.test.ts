// The run page's DAG grouping (handlers/ui/dag/group-steps.ts), on plain values: a fan-out of
// same-name steps with the same dependencies is one node with counts, chains of fan-outs group
// level by level, and small or differing sets stay one box per step.

import { describe, expect, it } from 'vitest'
import {
  groupSteps,
  groupStatus,
  GROUP_MIN_STEPS,
  type DagStep,
} from '../../../handlers/ui/dag/group-steps.js'
import { layoutDag } from '../../../handlers/ui/dag/layout-dag.js'

const step = (id: string, name: string, dependsOn: string[] = [], status = 'pending'): DagStep => ({
  id,
  name,
  status,
  dependsOn,
})

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe('groupSteps', () => {
  it('draws a 1,000-step fan-out between two steps as three nodes, with counts by status', () => {
    const parts = range(1000).map((i) =>
      step(`p-${i}`, 'process', ['split'], i < 10 ? 'failed' : 'completed'),
    )
    const graph = groupSteps([
      step('split', 'split', [], 'completed'),
      ...parts,
      step(
        'merge',
        'merge',
        parts.map((p) => p.id),
      ),
    ])
    expect(graph.nodes.map((node) => node.label)).toEqual(['split', 'process ×1000', 'merge'])
    const group = graph.nodes[1]!
    expect(group).toMatchObject({ group: true, status: 'failed', counts: { failed: 10, completed: 990 } })
    expect(group.stepIds).toHaveLength(1000)
    expect(graph.edges).toEqual([
      { from: 'split', to: group.id },
      { from: group.id, to: 'merge' },
    ])
  })

  it('groups a chain of fan-outs level by level (each upload depends on its own process step)', () => {
    const steps = range(50).flatMap((i) => [step(`p-${i}`, 'process'), step(`u-${i}`, 'upload', [`p-${i}`])])
    const graph = groupSteps(steps)
    expect(graph.nodes.map((node) => node.label)).toEqual(['process ×50', 'upload ×50'])
    expect(graph.edges).toHaveLength(1)
  })

  it('keeps fewer than GROUP_MIN_STEPS, and steps with other dependencies, as their own boxes', () => {
    const few = range(GROUP_MIN_STEPS - 1).map((i) => step(`w-${i}`, 'work', ['a']))
    const graph = groupSteps([
      step('a', 'a'),
      step('b', 'b'),
      ...few,
      ...range(5).map((i) => step(`x-${i}`, 'work', [i % 2 === 0 ? 'a' : 'b'])),
    ])
    expect(graph.nodes.filter((node) => node.group).map((node) => node.label)).toEqual(['work ×6'])
    // x-0, x-2, x-4 share `a` with w-0..w-2: one group of 6; x-1 and x-3 (after b) stay single.
    expect(graph.nodes.find((node) => node.group)?.stepIds).toHaveLength(6)
    expect(graph.nodes.filter((node) => !node.group).map((node) => node.id)).toEqual(['a', 'b', 'x-1', 'x-3'])
  })

  it('draws only dependencies inside the stage', () => {
    const graph = groupSteps([step('late', 'late', ['from-an-earlier-stage'])])
    expect(graph.edges).toEqual([])
    expect(graph.nodes).toHaveLength(1)
  })

  it('colours a group by its most urgent status', () => {
    expect(groupStatus({ completed: 5, running: 1 })).toBe('running')
    expect(groupStatus({ completed: 5, failed: 1, running: 1 })).toBe('failed')
    expect(groupStatus({ completed: 5 })).toBe('completed')
  })

  it('lays the grouped graph out left to right with dagre', () => {
    const parts = range(200).map((i) => step(`p-${i}`, 'process', ['split']))
    const placed = layoutDag(groupSteps([step('split', 'split'), ...parts]))
    const [split, group] = placed.nodes
    expect(group!.x).toBeGreaterThan(split!.x + split!.width)
    expect(placed.width).toBeGreaterThan(0)
    expect(placed.edges[0]!.points.length).toBeGreaterThan(1)
  })
})
