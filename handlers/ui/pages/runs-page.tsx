// GET /ui/runs?flowName&status&offset: runs newest first, filtered by flow and status, a page at
// a time (GET /api/v1/runs), with how long each took or has been running.

import { Hono } from 'hono'
import { RUN_STATUSES, type Run } from '../../../db/types.js'
import { elapsed, formatTime } from '../format.js'
import { Layout, Notice, StatusBadge } from '../layout.js'
import { apiErrorText, renderPage } from '../render-page.js'
import type { UiEnv } from '../ui-env.js'

export const RUNS_PAGE_SIZE = 25

interface RunsAnswer {
  runs: Run[]
  pagination: { total: number; limit: number; offset: number }
}

export const runsPage = new Hono<UiEnv>().get('/ui/runs', async (c) => {
  const flowName = c.req.query('flowName') ?? ''
  const status = c.req.query('status') ?? ''
  const offset = Math.max(0, Number.parseInt(c.req.query('offset') ?? '0', 10) || 0)
  const filters = new URLSearchParams()
  if (flowName !== '') filters.set('flowName', flowName)
  if (status !== '') filters.set('status', status)
  const query = new URLSearchParams(filters)
  query.set('limit', String(RUNS_PAGE_SIZE))
  query.set('offset', String(offset))
  const [answer, flows] = await Promise.all([
    c.get('api')<RunsAnswer>('GET', `/runs?${query}`),
    c.get('api')<{ flows: Array<{ name: string }> }>('GET', '/flows'),
  ])
  const error = answer.ok ? undefined : apiErrorText(answer.body, answer.status)
  const runs = answer.ok ? answer.body.runs : []
  const total = answer.ok ? answer.body.pagination.total : 0
  const now = c.get('clock').now()
  const pageLink = (at: number) => {
    const link = new URLSearchParams(filters)
    if (at > 0) link.set('offset', String(at))
    return `/ui/runs${link.size > 0 ? `?${link}` : ''}`
  }
  return renderPage(
    c,
    <Layout title="Runs" session={c.get('session')} loginRequired={c.get('loginRequired')} section="runs">
      <h1>Runs</h1>
      <form method="get" action="/ui/runs" class="filters">
        <label>
          Flow{' '}
          <select name="flowName">
            <option value="">all</option>
            {(flows.ok ? flows.body.flows : []).map((flow) => (
              <option value={flow.name} selected={flow.name === flowName}>
                {flow.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status{' '}
          <select name="status">
            <option value="">all</option>
            {RUN_STATUSES.map((s) => (
              <option value={s} selected={s === status}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      <Notice kind="error" text={error?.text} details={error?.details} />
      <table class="runs">
        <thead>
          <tr>
            <th>Run</th>
            <th>Flow</th>
            <th>Status</th>
            <th>Created (UTC)</th>
            <th>Duration</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr>
              <td>
                <a href={`/ui/runs/${encodeURIComponent(run.id)}`}>{run.name ?? run.id}</a>
              </td>
              <td>{run.flowName}</td>
              <td>
                <StatusBadge status={run.status} />
              </td>
              <td>{formatTime(run.createdAt)}</td>
              <td>{elapsed(run.startedAt, run.completedAt, now)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {runs.length === 0 && !error && <p class="muted">No runs.</p>}
      <p class="pager">
        {offset > 0 && <a href={pageLink(Math.max(0, offset - RUNS_PAGE_SIZE))}>← newer</a>}
        <span class="muted">
          {total === 0 ? '0' : `${offset + 1}–${offset + runs.length}`} of {total}
        </span>
        {offset + RUNS_PAGE_SIZE < total && <a href={pageLink(offset + RUNS_PAGE_SIZE)}>older →</a>}
      </p>
    </Layout>,
    error ? 400 : 200,
  )
})
