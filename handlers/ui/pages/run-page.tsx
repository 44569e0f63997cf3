// GET /ui/runs/:runId: one run, its stages' DAGs, steps, failures, flow calls and logs; and GET
// /ui/runs/:runId/live, the same content without the page around it, which the client script swaps
// in when the run changes.

import { Hono, type Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { Layout, Notice } from '../layout.js'
import { apiErrorText, renderPage } from '../render-page.js'
import type { UiEnv } from '../ui-env.js'
import { loadRun } from './run-data.js'
import { RunView, type RunViewProps } from './run-view.js'

/** What `?done=` after an action says: fixed texts, so a link cannot make the page say anything. */
const DONE: Record<string, string> = {
  abort: 'Abort requested: open work is being stopped.',
  retry: 'Retrying: unfinished steps are pending again.',
  pause: 'Paused: no new step starts until it is resumed.',
  resume: 'Resumed.',
}

/** Renders the run page, with a notice (what an action did or why it was refused). */
export async function runPage(
  c: Context<UiEnv>,
  runId: string,
  notice?: RunViewProps['notice'],
  status: ContentfulStatusCode = 200,
): Promise<Response> {
  const loaded = await loadRun(c.get('api'), runId)
  if (!loaded.ok) {
    const error = apiErrorText(loaded.body, loaded.status)
    return renderPage(
      c,
      <Layout title="Run" session={c.get('session')} loginRequired={c.get('loginRequired')} section="runs">
        <h1>Run {runId}</h1>
        <Notice kind="error" text={error.text} details={error.details} />
      </Layout>,
      loaded.status === 404 ? 404 : 502,
    )
  }
  return renderPage(
    c,
    <Layout
      title={`Run ${loaded.data.run.name ?? runId}`}
      session={c.get('session')}
      loginRequired={c.get('loginRequired')}
      section="runs"
    >
      <RunView data={loaded.data} session={c.get('session')} now={c.get('clock').now()} notice={notice} />
    </Layout>,
    status,
  )
}

export const runPageRoutes = new Hono<UiEnv>()
  .get('/ui/runs/:runId', async (c) => {
    const done = DONE[c.req.query('done') ?? '']
    return runPage(c, c.req.param('runId'), done === undefined ? undefined : { kind: 'ok', text: done })
  })
  .get('/ui/runs/:runId/live', async (c) => {
    const loaded = await loadRun(c.get('api'), c.req.param('runId'))
    if (!loaded.ok)
      return c.text(apiErrorText(loaded.body, loaded.status).text, loaded.status === 404 ? 404 : 502)
    const view = <RunView data={loaded.data} session={c.get('session')} now={c.get('clock').now()} />
    return c.html(await view.toString())
  })
