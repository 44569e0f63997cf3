// POST /ui/flows/:flowName/trigger: the flows page's form. The input must be JSON; the run is
// created by POST /api/v1/flows/{flow}/runs, whose own validation applies. On success the browser
// goes to the new run's page; a refusal shows the flows page again with the input as typed and
// the reason.

import { Hono } from 'hono'
import type { FlowView } from '../../flows/flow-view.js'
import { FlowsPage } from '../pages/flows-page.js'
import { apiErrorText, renderPage } from '../render-page.js'
import type { UiEnv } from '../ui-env.js'

export const triggerFlow = new Hono<UiEnv>().post('/ui/flows/:flowName/trigger', async (c) => {
  const flowName = c.req.param('flowName')
  const typed = c.get('form').get('input') ?? ''
  let refusal: { error: string; details?: unknown } | null = null
  let input: unknown = undefined
  if (typed.trim() !== '') {
    try {
      input = JSON.parse(typed)
    } catch (err) {
      refusal = { error: `The input is not valid JSON: ${err instanceof Error ? err.message : String(err)}` }
    }
  }
  if (refusal === null) {
    const created = await c.get('api')<{ id: string }>(
      'POST',
      `/flows/${encodeURIComponent(flowName)}/runs`,
      input === undefined ? {} : { input },
    )
    if (created.ok) return c.redirect(`/ui/runs/${encodeURIComponent(created.body.id)}`, 303)
    const error = apiErrorText(created.body, created.status)
    refusal = { error: error.text, details: error.details }
  }
  const flows = await c.get('api')<{ flows: FlowView[] }>('GET', '/flows')
  return renderPage(
    c,
    <FlowsPage
      session={c.get('session')}
      loginRequired={c.get('loginRequired')}
      flows={flows.ok ? flows.body.flows : []}
      refused={{ flowName, input: typed, ...refusal }}
    />,
    400,
  )
})
