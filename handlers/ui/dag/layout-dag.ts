// Places a stage's nodes with dagre (@dagrejs/dagre), left to right in dependency order, on the
// server: the browser gets finished SVG coordinates and needs no layout code of its own.

import dagre from '@dagrejs/dagre'
import type { DagGraph, DagNode } from './group-steps.js'

export const NODE_WIDTH = 190
export const NODE_HEIGHT = 40
export const GROUP_HEIGHT = 54

export interface PlacedNode extends DagNode {
  /** Top-left corner. */
  x: number
  y: number
  width: number
  height: number
}

export interface PlacedDag {
  width: number
  height: number
  nodes: PlacedNode[]
  edges: Array<{ from: string; to: string; points: Array<{ x: number; y: number }> }>
}

/** Past this many nodes (after grouping) a drawing is no longer readable: the list says it all. */
export const MAX_DRAWN_NODES = 400

export function layoutDag(graph: DagGraph): PlacedDag {
  const g = new dagre.graphlib.Graph()
  g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 48, marginx: 8, marginy: 8 })
  g.setDefaultEdgeLabel(() => ({}))
  for (const node of graph.nodes) {
    g.setNode(node.id, { width: NODE_WIDTH, height: node.group ? GROUP_HEIGHT : NODE_HEIGHT })
  }
  for (const edge of graph.edges) g.setEdge(edge.from, edge.to)
  dagre.layout(g)
  const nodes = graph.nodes.map((node) => {
    const placed = g.node(node.id)
    return {
      ...node,
      x: placed.x - placed.width / 2,
      y: placed.y - placed.height / 2,
      width: placed.width,
      height: placed.height,
    }
  })
  const edges = graph.edges.map((edge) => ({ ...edge, points: g.edge(edge.from, edge.to)?.points ?? [] }))
  const size = g.graph()
  return { width: Math.ceil(size.width ?? 0), height: Math.ceil(size.height ?? 0), nodes, edges }
}
