// GET /ui/runs/:runId/steps/:stepId: one step in full: status, attempts (when the API lists them),
// exit code, durations, why it waits, stdout, stderr, fields, env (masked by the API) and its log
// entries; a retry button when it failed. Like the run page, its content is live
// (`.../live`, swapped in by the client script).

import { Hono, type Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { Attempt, LogEntry, Step } from '../../../db/types.js'
import { elapsed, formatDuration, formatTime, pretty, waitingText } from '../format.js'
import { CsrfField, Layout, Notice, StatusBadge } from '../layout.js'
import { apiErrorText, renderPage } from '../render-page.js'
import type { UiEnv, UiSession } from '../ui-env.js'
import { stepPath, type RunViewProps } from './run-view.js'

async function loadStep(c: Context<UiEnv>, runId: string, stepId: string) {
  const base = `/runs/${encodeURIComponent(runId)}`
  const [step, logs] = await Promise.all([
    c.get('api')<Step>('GET', `${base}/steps/${encodeURIComponent(stepId)}`),
    c.get('api')<{ logs: LogEntry[] }>(
      'GET',
      `${base}/logs?entityType=step&entityId=${encodeURIComponent(stepId)}&limit=100`,
    ),
  ])
  return { step, logs: logs.ok ? logs.body.logs : [] }
}

function StepView(props: {
  runId: string
  step: Step
  logs: LogEntry[]
  session: UiSession
  now: number
  notice?: RunViewProps['notice']
}) {
  const { step, runId } = props
  const runLink = `/ui/runs/${encodeURIComponent(runId)}`
  return (
    <div
      id="live"
      data-live-url={`${stepPath(runId, step.id)}/live`}
      data-events-url={`${runLink}/events`}
      data-final={step.status === 'completed' || step.status === 'cancelled' ? 'true' : 'false'}
      data-status={step.status}
    >
      <p class="crumbs">
        <a href={runLink}>← run {runId}</a>
      </p>
      <div class="run-head">
        <h1>
          {step.id} <StatusBadge status={step.status} />
        </h1>
        <form method="post" action={`${stepPath(runId, step.id)}/retry`} class="actions">
          <CsrfField session={props.session} />
          <button type="submit" disabled={step.status !== 'failed'}>
            Retry step
          </button>
        </form>
      </div>
      {props.notice && (
        <Notice kind={props.notice.kind} text={props.notice.text} details={props.notice.details} />
      )}
      <dl class="facts">
        <dt>Name</dt>
        <dd>{step.name}</dd>
        <dt>Stage</dt>
        <dd>{step.stage}</dd>
        <dt>Depends on</dt>
        <dd>
          {step.dependsOn.length === 0
            ? '–'
            : step.dependsOn.map((dep, i) => (
                <>
                  {i > 0 && ', '}
                  <a href={stepPath(runId, dep)}>{dep}</a>
                </>
              ))}
        </dd>
        <dt>Attempt</dt>
        <dd>
          {step.attempt} ({step.retryCount} of {step.maxRetries} retries used)
        </dd>
        <dt>Exit code</dt>
        <dd>{step.exitCode ?? '–'}</dd>
        <dt>Started</dt>
        <dd>{formatTime(step.startedAt)}</dd>
        <dt>Duration</dt>
        <dd>{elapsed(step.startedAt, step.completedAt, props.now)}</dd>
        {step.status === 'pending' && (
          <>
            <dt>Why it waits</dt>
            <dd>{waitingText(step.waitingFor) || '–'}</dd>
          </>
        )}
        {step.terminationReason && (
          <>
            <dt>Ended by</dt>
            <dd>{step.terminationReason}</dd>
          </>
        )}
        {step.timeoutSeconds !== null && (
          <>
            <dt>Timeout</dt>
            <dd>{step.timeoutSeconds} s</dd>
          </>
        )}
      </dl>
      {step.error !== null && <Notice kind="error" text="Error" details={step.error} />}
      <h2>stdout</h2>
      {step.stdout ? <pre class="output">{step.stdout}</pre> : <p class="muted">Nothing.</p>}
      <h2>stderr</h2>
      {step.stderr ? <pre class="output stderr">{step.stderr}</pre> : <p class="muted">Nothing.</p>}
      <h2>Fields</h2>
      {Object.keys(step.fields).length === 0 ? (
        <p class="muted">None posted.</p>
      ) : (
        <pre class="output">{pretty(step.fields)}</pre>
      )}
      {Object.keys(step.env).length > 0 && (
        <>
          <h2>Environment</h2>
          <pre class="output">{pretty(step.env)}</pre>
        </>
      )}
      {step.attempts !== undefined && <Attempts attempts={step.attempts} />}
      <h2>Logs</h2>
      {props.logs.length === 0 ? (
        <p class="muted">No log entries.</p>
      ) : (
        <table class="compact logs">
          <tbody>
            {props.logs.map((log) => (
              <tr class={`level-${log.level}`}>
                <td class="nowrap">{formatTime(log.createdAt)}</td>
                <td>{log.level}</td>
                <td>{log.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  )
}

function Attempts(props: { attempts: Attempt[] }) {
  return (
    <>
      <h2>Attempts</h2>
      {props.attempts.length === 0 ? (
        <p class="muted">No attempt has ended yet.</p>
      ) : (
        <table class="compact attempts">
          <thead>
            <tr>
              <th>#</th>
              <th>Started (UTC)</th>
              <th>Duration</th>
              <th>Exit</th>
              <th>Ended by</th>
              <th>Worker</th>
              <th>Output (tail)</th>
            </tr>
          </thead>
          <tbody>
            {props.attempts.map((attempt) => (
              <tr class="attempt">
                <td>{attempt.attempt}</td>
                <td>{formatTime(attempt.startedAt)}</td>
                <td>
                  {attempt.startedAt === null ? '–' : formatDuration(attempt.endedAt - attempt.startedAt)}
                </td>
                <td>{attempt.exitCode ?? '–'}</td>
                <td>
                  {attempt.terminationReason}
                  {attempt.signal !== null && ` (${attempt.signal})`}
                </td>
                <td class="muted">{attempt.workerId ?? '–'}</td>
                <td>
                  {(attempt.stdoutTail || attempt.stderrTail) && (
                    <details>
                      <summary>stdout / stderr</summary>
                      {attempt.stdoutTail && <pre class="output">{attempt.stdoutTail}</pre>}
                      {attempt.stderrTail && <pre class="output stderr">{attempt.stderrTail}</pre>}
                    </details>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  )
}

export async function stepPage(
  c: Context<UiEnv>,
  runId: string,
  stepId: string,
  notice?: RunViewProps['notice'],
  status: ContentfulStatusCode = 200,
): Promise<Response> {
  const { step, logs } = await loadStep(c, runId, stepId)
  if (!step.ok) {
    const error = apiErrorText(step.body, step.status)
    return renderPage(
      c,
      <Layout title="Step" session={c.get('session')} loginRequired={c.get('loginRequired')} section="runs">
        <h1>Step {stepId}</h1>
        <Notice kind="error" text={error.text} details={error.details} />
      </Layout>,
      step.status === 404 ? 404 : 502,
    )
  }
  return renderPage(
    c,
    <Layout
      title={`Step ${stepId}`}
      session={c.get('session')}
      loginRequired={c.get('loginRequired')}
      section="runs"
    >
      <StepView
        runId={runId}
        step={step.body}
        logs={logs}
        session={c.get('session')}
        now={c.get('clock').now()}
        notice={notice}
      />
    </Layout>,
    status,
  )
}

export const stepPageRoutes = new Hono<UiEnv>()
  .get('/ui/runs/:runId/steps/:stepId', (c) => stepPage(c, c.req.param('runId'), c.req.param('stepId')))
  .get('/ui/runs/:runId/steps/:stepId/live', async (c) => {
    const { runId, stepId } = c.req.param()
    const { step, logs } = await loadStep(c, runId, stepId)
    if (!step.ok) return c.text(apiErrorText(step.body, step.status).text, step.status === 404 ? 404 : 502)
    const view = (
      <StepView
        runId={runId}
        step={step.body}
        logs={logs}
        session={c.get('session')}
        now={c.get('clock').now()}
      />
    )
    return c.html(await view.toString())
  })
