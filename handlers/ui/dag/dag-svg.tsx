// A stage's DAG as SVG: boxes coloured by status (the stylesheet's status-* classes), a group's
// counts as a stacked bar, edges along dagre's points. Every box links to its step's page, or to
// its group's list below the drawing. Nothing here is styled inline: the page's
// Content-Security-Policy allows the stylesheet only.

import { STEP_STATUSES } from '../../../db/types.js'
import type { PlacedDag, PlacedNode } from './layout-dag.js'

const LABEL_CHARS = 26

const shorten = (text: string): string =>
  text.length > LABEL_CHARS ? `${text.slice(0, LABEL_CHARS - 1)}…` : text

export function countsText(counts: Record<string, number>): string {
  return STEP_STATUSES.filter((status) => (counts[status] ?? 0) > 0)
    .map((status) => `${counts[status]} ${status}`)
    .join(', ')
}

/** The anchor of a group's list under the drawing. */
export const groupAnchor = (stage: string, nodeId: string): string =>
  `group-${stage}-${nodeId.replace(/^group:/, '')}`

export function DagSvg(props: { dag: PlacedDag; runId: string; stage: string }) {
  const { dag } = props
  const arrow = `arrow-${props.stage}`
  return (
    <svg
      class="dag"
      viewBox={`0 0 ${dag.width} ${dag.height}`}
      width={dag.width}
      height={dag.height}
      role="img"
      aria-label={`Steps of stage ${props.stage}`}
    >
      <defs>
        <marker
          id={arrow}
          viewBox="0 0 10 10"
          refX="10"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto"
        >
          <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
        </marker>
      </defs>
      {dag.edges.map((edge) => (
        <path
          class="edge"
          d={edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')}
          {...{ 'marker-end': `url(#${arrow})` }}
        />
      ))}
      {dag.nodes.map((node) => (
        <DagNodeBox node={node} runId={props.runId} stage={props.stage} />
      ))}
    </svg>
  )
}

function DagNodeBox(props: { node: PlacedNode; runId: string; stage: string }) {
  const { node } = props
  const href = node.group
    ? `#${groupAnchor(props.stage, node.id)}`
    : `/ui/runs/${encodeURIComponent(props.runId)}/steps/${encodeURIComponent(node.id)}`
  const total = node.stepIds.length
  let offset = 0
  return (
    <a href={href} class="node-link">
      <g
        class={`node status-${node.status}${node.group ? ' group' : ''}`}
        data-node={node.id}
        data-status={node.status}
        transform={`translate(${node.x.toFixed(1)},${node.y.toFixed(1)})`}
      >
        <title>
          {node.group ? `${node.label}: ${countsText(node.counts)}` : `${node.label}: ${node.status}`}
        </title>
        <rect class="box" width={node.width} height={node.height} rx="6" />
        <text x="10" y="17" class="label">
          {shorten(node.label)}
        </text>
        <text x="10" y="32" class="sub">
          {node.group ? countsText(node.counts) : node.status}
        </text>
        {node.group &&
          STEP_STATUSES.filter((status) => (node.counts[status] ?? 0) > 0).map((status) => {
            const width = ((node.counts[status] ?? 0) / total) * (node.width - 20)
            const x = 10 + offset
            offset += width
            return (
              <rect
                class={`seg status-${status}`}
                x={x.toFixed(1)}
                y="40"
                width={width.toFixed(1)}
                height="6"
              />
            )
          })}
      </g>
    </a>
  )
}
