// The run page's live part: the run's state and buttons, each stage's DAG and steps, failures
// with their stderr, flow calls and logs. The client script fetches it again when the event stream
// says something changed (or every 2 s when there is no stream) and swaps it in place.

import type { RunStatus, Stage, Step } from '../../../db/types.js'
import { countsText, DagSvg, groupAnchor } from '../dag/dag-svg.js'
import { groupSteps, type DagNode } from '../dag/group-steps.js'
import { layoutDag, MAX_DRAWN_NODES } from '../dag/layout-dag.js'
import { elapsed, formatTime, pretty, waitingText } from '../format.js'
import { CsrfField, Notice, StatusBadge } from '../layout.js'
import type { UiSession } from '../ui-env.js'
import type { RunData } from './run-data.js'

/** The tail of a failed step's stderr shown on the run page; the step page shows all of it. */
const STDERR_TAIL_CHARS = 4000
const SHOWN_FAILURES = 20

export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['completed', 'failed']

export interface RunViewProps {
  data: RunData
  session: UiSession
  now: number
  notice?: { kind: 'ok' | 'error'; text: string; details?: unknown }
}

const runPath = (runId: string) => `/ui/runs/${encodeURIComponent(runId)}`
export const stepPath = (runId: string, stepId: string) =>
  `${runPath(runId)}/steps/${encodeURIComponent(stepId)}`

export function RunView(props: RunViewProps) {
  const { run, steps } = props.data
  const final = FINAL_RUN_STATUSES.includes(run.status)
  const byStage = new Map<string, Step[]>()
  for (const step of steps) {
    const list = byStage.get(step.stage)
    if (list === undefined) byStage.set(step.stage, [step])
    else list.push(step)
  }
  return (
    <div
      id="live"
      data-live-url={`${runPath(run.id)}/live`}
      data-events-url={`${runPath(run.id)}/events`}
      data-final={final ? 'true' : 'false'}
      data-status={run.status}
    >
      <div class="run-head">
        <h1>
          {run.name ?? run.id} <StatusBadge status={run.status} />
        </h1>
        <RunButtons runId={run.id} status={run.status} session={props.session} />
      </div>
      {props.notice && (
        <Notice kind={props.notice.kind} text={props.notice.text} details={props.notice.details} />
      )}
      <dl class="facts">
        <dt>Flow</dt>
        <dd>
          <a href={`/ui/runs?flowName=${encodeURIComponent(run.flowName)}`}>{run.flowName}</a>
        </dd>
        <dt>Run</dt>
        <dd>
          <code>{run.id}</code>
        </dd>
        <dt>Created</dt>
        <dd>{formatTime(run.createdAt)}</dd>
        <dt>Duration</dt>
        <dd>{elapsed(run.startedAt, run.completedAt, props.now)}</dd>
        {run.waitingFor && (
          <>
            <dt>Waiting</dt>
            <dd>{waitingText(run.waitingFor)}</dd>
          </>
        )}
        {run.terminationReason && (
          <>
            <dt>Ended by</dt>
            <dd>{run.terminationReason}</dd>
          </>
        )}
      </dl>
      {run.description && <p>{run.description}</p>}
      {run.error !== null && <Notice kind="error" text="The run failed" details={run.error} />}
      <details class="json">
        <summary>Input and output</summary>
        <pre>{pretty({ input: run.input, output: run.output, metadata: run.metadata })}</pre>
      </details>
      {run.stages.length === 0 && <p class="muted">No stage scheduled yet.</p>}
      {run.stages.map((stage) => (
        <StageView runId={run.id} stage={stage} steps={byStage.get(stage.name) ?? []} now={props.now} />
      ))}
      {props.data.stepsCut && (
        <p class="notice error">This run has more steps than the page reads; the API lists all of them.</p>
      )}
      <FlowCalls data={props.data} />
      <Logs data={props.data} />
    </div>
  )
}

function RunButtons(props: { runId: string; status: RunStatus; session: UiSession }) {
  const actions: Array<{ name: string; label: string; when: RunStatus[] }> = [
    { name: 'pause', label: 'Pause', when: ['pending', 'running'] },
    { name: 'resume', label: 'Resume', when: ['paused'] },
    { name: 'retry', label: 'Retry', when: ['failed'] },
    { name: 'abort', label: 'Abort', when: ['pending', 'running', 'paused'] },
  ]
  return (
    <div class="actions">
      {actions.map((action) => (
        <form method="post" action={`${runPath(props.runId)}/${action.name}`}>
          <CsrfField session={props.session} />
          <button
            type="submit"
            name="action"
            value={action.name}
            class={action.name === 'abort' ? 'danger' : ''}
            disabled={!action.when.includes(props.status)}
          >
            {action.label}
          </button>
        </form>
      ))}
    </div>
  )
}

function StageView(props: { runId: string; stage: Stage; steps: Step[]; now: number }) {
  const { stage, steps } = props
  const graph = groupSteps(steps)
  const drawable = graph.nodes.length > 0 && graph.nodes.length <= MAX_DRAWN_NODES
  const byId = new Map(steps.map((step) => [step.id, step]))
  const failed = steps.filter((step) => step.status === 'failed')
  return (
    <section class="stage" id={`stage-${stage.name}`}>
      <h2>
        Stage {stage.name} <StatusBadge status={stage.status} />
        <span class="muted small">
          {' '}
          {steps.length} steps{stage.final ? ', final' : ''},{' '}
          {elapsed(stage.startedAt, stage.completedAt, props.now)}
        </span>
      </h2>
      {drawable ? (
        <div class="dag-scroll">
          <DagSvg dag={layoutDag(graph)} runId={props.runId} stage={stage.name} />
        </div>
      ) : (
        graph.nodes.length > 0 && (
          <p class="muted">{graph.nodes.length} distinct steps: too many to draw; they are listed below.</p>
        )
      )}
      {failed.length > 0 && (
        <div class="failures">
          <h3>Failed steps</h3>
          {failed.slice(0, SHOWN_FAILURES).map((step) => (
            <div class="failure" id={`failure-${step.id}`}>
              <p>
                <a href={stepPath(props.runId, step.id)}>{step.id}</a>
                {step.exitCode !== null && ` exited with ${step.exitCode}`}
                {step.terminationReason && ` (${step.terminationReason})`}
              </p>
              {step.stderr ? (
                <pre class="output stderr">{step.stderr.slice(-STDERR_TAIL_CHARS)}</pre>
              ) : (
                <p class="muted">No stderr.</p>
              )}
              {step.error !== null && <pre class="output">{pretty(step.error)}</pre>}
            </div>
          ))}
          {failed.length > SHOWN_FAILURES && <p class="muted">and {failed.length - SHOWN_FAILURES} more</p>}
        </div>
      )}
      <table class="steps">
        <thead>
          <tr>
            <th>Step</th>
            <th>Status</th>
            <th>Attempt</th>
            <th>Exit</th>
            <th>Duration</th>
            <th>Why it waits</th>
          </tr>
        </thead>
        <tbody>
          {graph.nodes.map((node) =>
            node.group ? (
              <GroupRow runId={props.runId} stage={stage.name} node={node} byId={byId} now={props.now} />
            ) : (
              <StepRow runId={props.runId} step={byId.get(node.id)!} now={props.now} />
            ),
          )}
        </tbody>
      </table>
    </section>
  )
}

function StepRow(props: { runId: string; step: Step; now: number }) {
  const { step } = props
  return (
    <tr class={`step-row status-${step.status}`} data-step={step.id}>
      <td>
        <a href={stepPath(props.runId, step.id)}>{step.id}</a>
        {step.name !== step.id && <span class="muted"> {step.name}</span>}
      </td>
      <td>
        <StatusBadge status={step.status} />
      </td>
      <td>
        {step.attempt}
        {step.maxRetries > 0 && (
          <span class="muted">
            {' '}
            ({step.retryCount}/{step.maxRetries} retries)
          </span>
        )}
      </td>
      <td>{step.exitCode ?? '–'}</td>
      <td>{elapsed(step.startedAt, step.completedAt, props.now)}</td>
      <td class="muted">{step.status === 'pending' ? waitingText(step.waitingFor) : ''}</td>
    </tr>
  )
}

function GroupRow(props: {
  runId: string
  stage: string
  node: DagNode
  byId: Map<string, Step>
  now: number
}) {
  const { node } = props
  return (
    <tr class="group-row">
      <td colspan={6}>
        <details id={groupAnchor(props.stage, node.id)}>
          <summary>
            <strong>{node.label}</strong> <StatusBadge status={node.status} />{' '}
            <span class="muted">{countsText(node.counts)}</span>
          </summary>
          <table class="steps inner">
            <tbody>
              {node.stepIds.map((id) => (
                <StepRow runId={props.runId} step={props.byId.get(id)!} now={props.now} />
              ))}
            </tbody>
          </table>
        </details>
      </td>
    </tr>
  )
}

function FlowCalls(props: { data: RunData }) {
  if (props.data.flowCalls.length === 0) return null
  return (
    <section>
      <h2>Flow calls</h2>
      <table class="compact">
        <thead>
          <tr>
            <th>After</th>
            <th>Status</th>
            <th>Exit</th>
            <th>Started (UTC)</th>
            <th>Output</th>
          </tr>
        </thead>
        <tbody>
          {props.data.flowCalls.map((call) => (
            <tr>
              <td>
                {call.failedStage !== null
                  ? `failed ${call.failedStage}`
                  : call.completedStage !== null
                    ? `completed ${call.completedStage}`
                    : 'start'}
              </td>
              <td>
                <StatusBadge status={call.status} />
                {call.terminationReason && ` (${call.terminationReason})`}
              </td>
              <td>{call.exitCode ?? '–'}</td>
              <td>{formatTime(call.startedAt)}</td>
              <td>
                {(call.stdout || call.stderr) && (
                  <details>
                    <summary>stdout / stderr</summary>
                    {call.stdout && <pre class="output">{call.stdout}</pre>}
                    {call.stderr && <pre class="output stderr">{call.stderr}</pre>}
                  </details>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

function Logs(props: { data: RunData }) {
  return (
    <section>
      <h2>Logs</h2>
      {props.data.logs.length === 0 ? (
        <p class="muted">No log entries.</p>
      ) : (
        <table class="compact logs">
          <tbody>
            {props.data.logs.map((log) => (
              <tr class={`level-${log.level}`}>
                <td class="nowrap">{formatTime(log.createdAt)}</td>
                <td>{log.level}</td>
                <td class="nowrap">
                  {log.entityType}
                  {log.entityId !== null && ` ${log.entityId}`}
                </td>
                <td>
                  {log.message}
                  {log.metadata !== null && <span class="muted"> {JSON.stringify(log.metadata)}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
