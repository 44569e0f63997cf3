// GET /ui/flows: every flow with its steps, its schedules and their next slots (what GET
// /api/v1/flows answers), and a form to trigger it with a JSON input.

import { Hono } from 'hono'
import type { FlowView } from '../../flows/flow-view.js'
import { formatTime, pretty } from '../format.js'
import { CsrfField, Layout, Notice } from '../layout.js'
import { apiErrorText, renderPage } from '../render-page.js'
import type { UiEnv, UiSession } from '../ui-env.js'

export interface FlowsPageProps {
  session: UiSession
  loginRequired: boolean
  flows: FlowView[]
  /** The trigger that was refused, with the input as it was typed, so it can be fixed. */
  refused?: { flowName: string; input: string; error: string; details?: unknown }
}

export function FlowsPage(props: FlowsPageProps) {
  return (
    <Layout title="Flows" session={props.session} loginRequired={props.loginRequired} section="flows">
      <h1>Flows</h1>
      {props.flows.length === 0 && <p class="muted">No flows under MAXQ_FLOWS_ROOT.</p>}
      <div class="cards">
        {props.flows.map((flow) => (
          <FlowCard flow={flow} session={props.session} refused={props.refused} />
        ))}
      </div>
    </Layout>
  )
}

function FlowCard(props: { flow: FlowView; session: UiSession; refused: FlowsPageProps['refused'] }) {
  const { flow } = props
  const refused = props.refused?.flowName === flow.name ? props.refused : undefined
  return (
    <section class="card" id={`flow-${flow.name}`}>
      <h2>
        <a href={`/ui/runs?flowName=${encodeURIComponent(flow.name)}`}>{flow.name}</a>
        {!flow.usable && <span class="badge status-failed">not usable</span>}
      </h2>
      {flow.problem !== null && <p class="problem">{flow.problem.reason}</p>}
      {flow.problems.map((problem) => (
        <p class="problem">
          {'step' in problem && problem.step !== undefined ? `${problem.step}: ` : ''}
          {problem.reason}
        </p>
      ))}
      <p class="muted">Steps: {flow.steps.length === 0 ? 'none' : flow.steps.join(', ')}</p>
      {flow.schedules.length > 0 && (
        <table class="compact">
          <thead>
            <tr>
              <th>Schedule</th>
              <th>Time zone</th>
              <th>Next slot (UTC)</th>
              <th>Overlap</th>
            </tr>
          </thead>
          <tbody>
            {flow.schedules.map((schedule) => (
              <tr class={schedule.enabled ? '' : 'muted'}>
                <td>
                  <code>{schedule.cron}</code>
                  {!schedule.enabled && ' (disabled)'}
                </td>
                <td>{schedule.timezone ?? 'UTC'}</td>
                <td>{schedule.enabled ? formatTime(schedule.nextSlotAt) : '–'}</td>
                <td>{String(schedule.overlap)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form method="post" action={`/ui/flows/${encodeURIComponent(flow.name)}/trigger`} class="trigger">
        <CsrfField session={props.session} />
        <label for={`input-${flow.name}`}>Input (JSON)</label>
        <textarea id={`input-${flow.name}`} name="input" rows={3} spellcheck={false}>
          {refused?.input ?? pretty(flow.schedules[0]?.input ?? {})}
        </textarea>
        {refused && <Notice kind="error" text={refused.error} details={refused.details} />}
        <button type="submit" disabled={!flow.usable}>
          Trigger {flow.name}
        </button>
      </form>
    </section>
  )
}

export const flowsPage = new Hono<UiEnv>().get('/ui/flows', async (c) => {
  const answer = await c.get('api')<{ flows: FlowView[] }>('GET', '/flows')
  if (!answer.ok) {
    const error = apiErrorText(answer.body, answer.status)
    return c.text(`Could not list flows: ${error.text}`, 502)
  }
  return renderPage(
    c,
    <FlowsPage session={c.get('session')} loginRequired={c.get('loginRequired')} flows={answer.body.flows} />,
  )
})
