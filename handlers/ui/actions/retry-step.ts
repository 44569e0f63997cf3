// POST /ui/runs/:runId/steps/:stepId/retry: the step page's button, POST
// /api/v1/runs/{run}/steps/{step}/retry. Done, back to the step page; refused, the API's reason.

import { Hono } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { stepPage } from '../pages/step-page.js'
import { apiErrorText } from '../render-page.js'
import type { UiEnv } from '../ui-env.js'

export const retryStepAction = new Hono<UiEnv>().post('/ui/runs/:runId/steps/:stepId/retry', async (c) => {
  const { runId, stepId } = c.req.param()
  const path = `/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(stepId)}`
  const answer = await c.get('api')('POST', `${path}/retry`)
  if (answer.ok) return c.redirect(`/ui${path}`, 303)
  const error = apiErrorText(answer.body, answer.status)
  const status = (answer.status >= 400 && answer.status < 600 ? answer.status : 502) as ContentfulStatusCode
  return stepPage(
    c,
    runId,
    stepId,
    { kind: 'error', text: `Could not retry: ${error.text}`, details: error.details },
    status,
  )
})
