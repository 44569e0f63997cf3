// POST /ui/runs/:runId/{abort,retry,pause,resume}: the run page's buttons, each the API's action of
// the same name. Done, the browser goes back to the run page (303, so a reload does not repeat
// it); refused, the run page says why, with the API's status.

import { Hono } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { runPage } from '../pages/run-page.js'
import { apiErrorText } from '../render-page.js'
import type { UiEnv } from '../ui-env.js'

export const RUN_ACTIONS = ['abort', 'retry', 'pause', 'resume'] as const

export const runActions = new Hono<UiEnv>().post(
  '/ui/runs/:runId/:action{abort|retry|pause|resume}',
  async (c) => {
    const runId = c.req.param('runId')
    const action = c.req.param('action')
    const answer = await c.get('api')('POST', `/runs/${encodeURIComponent(runId)}/${action}`)
    if (answer.ok) return c.redirect(`/ui/runs/${encodeURIComponent(runId)}?done=${action}`, 303)
    const error = apiErrorText(answer.body, answer.status)
    const status = (answer.status >= 400 && answer.status < 600 ? answer.status : 502) as ContentfulStatusCode
    return runPage(
      c,
      runId,
      { kind: 'error', text: `Could not ${action}: ${error.text}`, details: error.details },
      status,
    )
  },
)
