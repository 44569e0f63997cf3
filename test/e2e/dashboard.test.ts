// The dashboard in a real browser: headless Chromium (Debian's `chromium`, driven by
// playwright-core) against a real server with MAXQ_API_TOKEN set and real bash flows. Log in,
// trigger a flow from the flows page, watch the run page's DAG change colour without a reload,
// read a failing step's stderr (which prints HTML that must stay text), fix the step and retry the
// run until it completes; then a 200-step fan-out, drawn as one group. Screenshots of the run page
// are saved to test/screenshots/ for a person to look at.
//
// Chromium is required: without it this file fails and says how to install it, unless
// MAXQ_TEST_SKIP_BROWSER=1 says to skip it (for a machine without a browser; CI installs one).
// MAXQ_TEST_CHROMIUM names another Chromium binary.

import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sqliteDatabase } from '../support/dialects.js'
import { PACKAGE_ROOT, startServer, type RunningServer } from '../support/start-server.js'
import { createTempDir, removeDir, writeFlow } from '../support/temp-flows.js'

const API_TOKEN = 'dashboard-e2e-token-6f1ed002ab5595859014ebf0951522d9'
export const SCREENSHOTS = path.join(PACKAGE_ROOT, 'test', 'screenshots')
const FAN_OUT = 200
/** Generous: two cores are shared by every test process and a browser. */
const SLOW_MS = 90_000
/** Each test is a whole story of waits like the above: far past vitest's default. */
const TEST_TIMEOUT_MS = 6 * SLOW_MS

/** expect.poll with a timeout fit for a loaded machine (vitest's default is one second). */
const poll = <T>(fn: () => Promise<T> | T, timeoutMs = SLOW_MS) =>
  expect.poll(fn, { timeout: timeoutMs, interval: 100 })

function findChromium(): string | null {
  const given = process.env.MAXQ_TEST_CHROMIUM
  if (given !== undefined && given !== '') return existsSync(given) ? given : null
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || null
    } catch {
      // Not this name; try the next.
    }
  }
  return null
}

const chromiumPath = findChromium()
const skip = chromiumPath === null && process.env.MAXQ_TEST_SKIP_BROWSER === '1'

const STEP_BODY = (id: string, name: string, dependsOn: string[] = []) => ({
  id,
  name,
  dependsOn,
  maxRetries: 0,
})

/** ui_demo: a gate step the test opens, four `work` steps (one group), and a step that fails until fixed. */
const DEMO_STAGE = {
  stage: 'main',
  final: true,
  steps: [
    STEP_BODY('prepare', 'gate'),
    ...[0, 1, 2, 3].map((i) => STEP_BODY(`work-${i}`, 'work', ['prepare'])),
    STEP_BODY('publish', 'flaky', ['work-0', 'work-1', 'work-2', 'work-3']),
  ],
}

const POST_FIRST_STAGE = (body: string) => `set -euo pipefail
if [ -z "\${MAXQ_COMPLETED_STAGE:-}" ] && [ -z "\${MAXQ_FAILED_STAGE+set}" ]; then
  ${body} | curl -fsS -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps" -H 'Content-Type: application/json' \\
    -H "Authorization: Bearer $MAXQ_TOKEN" --data-binary @- >/dev/null
fi
`

async function writeFlows(root: string): Promise<void> {
  await writeFlow(root, 'ui_demo', {
    flow: POST_FIRST_STAGE(`echo '${JSON.stringify(DEMO_STAGE)}'`),
    steps: {
      // Waits (at most a minute) until the test creates the flow's open-gate file.
      gate: 'for _ in $(seq 600); do [ -f ../../open-gate ] && exit 0; sleep 0.1; done; exit 1',
      work: `echo "working on $MAXQ_STEP_ID"
curl -fsS -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps/$MAXQ_STEP_ID/fields" -H 'Content-Type: application/json' \\
  -H "Authorization: Bearer $MAXQ_TOKEN" -d '{"fields":{"rows":42}}' >/dev/null`,
      flaky: `echo "publishing"
if [ ! -f ../../fixed ]; then
  echo '<script>alert(1)</script>' >&2
  echo '<img src=x onerror=alert(2)>' >&2
  echo 'publish failed: the fixed flag is missing' >&2
  exit 3
fi
echo "published"`,
    },
  })
  // Schedules the flows page shows with their next slot; neither starts a run during the test.
  writeFileSync(
    path.join(root, 'ui_demo', 'flow.json'),
    JSON.stringify({
      schedules: [
        { cron: '0 0 1 1 *', input: { yearly: true } },
        { cron: '0 3 * * *', timezone: 'Europe/Berlin', enabled: false },
      ],
    }),
  )
  await writeFlow(root, 'fanout', {
    flow: POST_FIRST_STAGE(
      `jq -cn '{stage: "fan", final: true, steps: ([{id: "split", name: "split", maxRetries: 0}]
        + [range(${FAN_OUT}) | {id: "p-\\(.)", name: "process", dependsOn: ["split"], maxRetries: 0}]
        + [{id: "merge", name: "merge", dependsOn: [range(${FAN_OUT}) | "p-\\(.)"], maxRetries: 0}])}'`,
    ),
    steps: { split: 'echo split', process: 'echo "part $MAXQ_STEP_ID"', merge: 'echo merged' },
  })
}

describe.skipIf(skip)('dashboard in Chromium', () => {
  let flowsRoot: string
  let server: RunningServer
  let dispose: () => Promise<void>
  let browser: Browser
  let page: Page
  const dialogs: string[] = []
  const consoleErrors: string[] = []
  /** Statuses of the run pages' event streams: the live view follows the SSE stream when there is one. */
  const streams: number[] = []

  const shot = async (name: string): Promise<void> => {
    const file = path.join(SCREENSHOTS, `${name}.png`)
    await page.screenshot({ path: file, fullPage: true })
    console.log(`dashboard screenshot: ${file}`)
  }

  /** Cookie header of the logged-in browser, for requests made around it. */
  const browserCookie = async (): Promise<string> =>
    (await page.context().cookies()).map((cookie) => `${cookie.name}=${cookie.value}`).join('; ')

  const runCount = async (): Promise<number> => {
    const res = await fetch(`${server.apiBase}/runs`, { headers: { authorization: `Bearer ${API_TOKEN}` } })
    return ((await res.json()) as { pagination: { total: number } }).pagination.total
  }

  beforeAll(async () => {
    if (chromiumPath === null) {
      throw new Error(
        'The dashboard test needs Chromium: apt-get install -y chromium (Debian), or set ' +
          'MAXQ_TEST_CHROMIUM to a Chromium binary. To skip it on a machine without one, set ' +
          'MAXQ_TEST_SKIP_BROWSER=1 (CI never does).',
      )
    }
    mkdirSync(SCREENSHOTS, { recursive: true })
    flowsRoot = await createTempDir('maxq-ui-flows-')
    await writeFlows(flowsRoot)
    // The dashboard reads everything through the API: one database shows it, SQLite is enough.
    const opened = await sqliteDatabase.open()
    dispose = opened.dispose
    server = await startServer({
      flowsRoot,
      databaseEnv: opened.databaseEnv,
      env: { MAXQ_API_TOKEN: API_TOKEN, MAXQ_MAX_CONCURRENT_STEPS: '50' },
    })
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] })
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.setDefaultTimeout(SLOW_MS)
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message())
      void dialog.dismiss()
    })
    page.on('response', (response) => {
      if (/\/ui\/runs\/[^/]+\/events/.test(response.url())) streams.push(response.status())
    })
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text())
    })
  })

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    await dispose?.()
    if (flowsRoot !== undefined) await removeDir(flowsRoot)
  })

  it(
    'logs in, triggers, follows the live DAG, shows stderr as text, retries to completion',
    async () => {
      // Opening the dashboard without the login lands on the login form.
      await page.goto(`${server.baseUrl}/`)
      await page.waitForURL(/\/ui\/login\?next=/)
      await page.fill('#token', 'not-the-token')
      await page.click('form.login button[type=submit]')
      await poll(() => page.locator('.notice.error').textContent()).toContain('not the API token')
      await page.fill('#token', API_TOKEN)
      await page.click('form.login button[type=submit]')
      await page.waitForURL(/\/ui\/runs$/)
      const cookie = (await page.context().cookies()).find((c) => c.name === 'maxq_ui')
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' })

      // A trigger with input that is not JSON is refused and shown; valid JSON starts a run.
      await page.goto(`${server.baseUrl}/ui/flows`)
      const schedules = (await page.locator('#flow-ui_demo table').textContent()) ?? ''
      expect(schedules).toContain('0 0 1 1 *')
      expect(schedules).toMatch(/\d{4}-01-01 00:00:00/)
      expect(schedules).toContain('0 3 * * * (disabled)')
      const form = page.locator('#flow-ui_demo form.trigger')
      await form.locator('textarea').fill('{"who": ')
      await form.locator('button[type=submit]').click()
      await poll(() => page.locator('#flow-ui_demo .notice.error').textContent()).toContain('not valid JSON')
      await page.locator('#flow-ui_demo form.trigger textarea').fill('{"who": "e2e"}')
      await page.locator('#flow-ui_demo form.trigger button[type=submit]').click()
      await page.waitForURL(/\/ui\/runs\/[^/?]+$/)
      const runUrl = page.url()
      const runId = decodeURIComponent(runUrl.split('/').pop()!)

      // The page is followed live: a marker set now survives only if the page is never reloaded.
      await page.evaluate(() => Object.assign(window, { maxqMarker: 'same-page' }))
      const node = (id: string) => page.locator(`svg.dag g.node[data-node="${id}"]`)
      await node('prepare').waitFor()
      await poll(() => node('prepare').getAttribute('data-status')).toBe('running')
      // The four `work` steps share a name and dependencies: one group box.
      await poll(() => page.locator('svg.dag g.node.group').count()).toBe(1)
      await shot('run-live-waiting')

      writeFileSync(path.join(flowsRoot, 'ui_demo', 'open-gate'), '')
      await poll(() => node('prepare').getAttribute('data-status')).toBe('completed')
      await poll(() => node('publish').getAttribute('data-status')).toBe('failed')
      await poll(() => page.locator('#live').getAttribute('data-status')).toBe('failed')
      expect(await page.evaluate(() => (window as unknown as { maxqMarker?: string }).maxqMarker)).toBe(
        'same-page',
      )

      // The failing step's stderr is on the page as text: no script ran, no image was made of it.
      const stderr = page.locator('#failure-publish pre.stderr')
      await poll(() => stderr.textContent()).toContain('<script>alert(1)</script>')
      expect(await stderr.textContent()).toContain('<img src=x onerror=alert(2)>')
      expect(await page.locator('img[src="x"]').count()).toBe(0)
      expect(await page.locator('#live script').count()).toBe(0)
      await shot('run-failed-stderr')

      // The step page shows its output, exit code and fields the same way.
      await node('publish').click()
      await page.waitForURL(/\/steps\/publish$/)
      expect(await page.locator('pre.stderr').first().textContent()).toContain('<script>alert(1)</script>')
      await page.goto(
        `${runUrl.replace(/\/ui\/runs\/.*/, '')}/ui/runs/${encodeURIComponent(runId)}/steps/work-0`,
      )
      expect(await page.locator('main').textContent()).toContain('"rows": 42')
      await page.goto(runUrl)

      // Fix the step, retry the run from its page: it completes, and the page follows it there.
      writeFileSync(path.join(flowsRoot, 'ui_demo', 'fixed'), '')
      await page.locator('form[action$="/retry"] button').click()
      await page.waitForURL(/\?done=retry$/)
      await page.evaluate(() => Object.assign(window, { maxqMarker: 'after-retry' }))
      await poll(() => page.locator('#live').getAttribute('data-status')).toBe('completed')
      expect(await node('publish').getAttribute('data-status')).toBe('completed')
      expect(await page.evaluate(() => (window as unknown as { maxqMarker?: string }).maxqMarker)).toBe(
        'after-retry',
      )
      await shot('run-completed')

      // The retried step's page lists its attempts, as GET /api/v1/runs/{run}/steps/{step} does.
      const apiStep = (await (
        await fetch(`${server.apiBase}/runs/${encodeURIComponent(runId)}/steps/publish`, {
          headers: { authorization: `Bearer ${API_TOKEN}` },
        })
      ).json()) as { attempts?: unknown[] }
      await page.goto(`${runUrl}/steps/publish`)
      expect(await page.locator('main').textContent()).toContain('published')
      if (apiStep.attempts !== undefined) {
        expect(apiStep.attempts.length).toBeGreaterThanOrEqual(2)
        expect(await page.locator('table.attempts tr.attempt').count()).toBe(apiStep.attempts.length)
      }
      await shot('step-attempts')

      expect(dialogs).toEqual([])
      expect(streams).toContain(200)
      // Our own script and stylesheet load under the Content-Security-Policy, with no violation.
      expect(consoleErrors.filter((text) => /Content Security Policy|Refused/i.test(text))).toEqual([])
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'refuses actions without the CSRF token, from another origin, or without the login',
    async () => {
      const base = server.baseUrl
      const before = await runCount()
      const post = (urlPath: string, form: Record<string, string>, headers: Record<string, string>) =>
        fetch(`${base}${urlPath}`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body: new URLSearchParams(form).toString(),
        })
      const loggedIn = await browserCookie()
      await page.goto(`${base}/ui/flows`)
      const csrf = (await page.locator('input[name=_csrf]').first().getAttribute('value'))!

      // Logged in, but no token, or the token from another origin: refused.
      expect(
        (await post('/ui/flows/ui_demo/trigger', { input: '{}' }, { cookie: loggedIn, origin: base })).status,
      ).toBe(403)
      const forged = await post(
        '/ui/flows/ui_demo/trigger',
        { input: '{}', _csrf: 'forged' },
        { cookie: loggedIn, origin: base },
      )
      expect(forged.status).toBe(403)
      const crossSite = await post(
        '/ui/flows/ui_demo/trigger',
        { input: '{}', _csrf: csrf },
        { cookie: loggedIn, origin: 'https://evil.example' },
      )
      expect(crossSite.status).toBe(403)

      // Without the login: a fresh session with its own valid CSRF token still may not act or read.
      const fresh = await fetch(`${base}/ui/login`)
      const freshCookie = (fresh.headers.get('set-cookie') ?? '').split(';')[0]!
      const freshCsrf = /name="_csrf" value="([^"]+)"/.exec(await fresh.text())?.[1] ?? ''
      expect(freshCsrf).not.toBe('')
      const anonymous = await post(
        '/ui/flows/ui_demo/trigger',
        { input: '{}', _csrf: freshCsrf },
        { cookie: freshCookie, origin: base },
      )
      expect(anonymous.status).toBe(401)
      expect((await fetch(`${base}/ui/runs`, { redirect: 'manual' })).status).toBe(401)
      expect(
        (await fetch(`${base}/ui/flows`, { redirect: 'manual', headers: { accept: 'text/html' } })).status,
      ).toBe(302)

      // The same request with the logged-in session and its token is accepted: the checks are real.
      const accepted = await post(
        '/ui/flows/ui_demo/trigger',
        { input: '{}', _csrf: csrf },
        { cookie: loggedIn, origin: base },
      )
      expect(accepted.status).toBe(303)
      expect(await runCount()).toBe(before + 1)
      const run = accepted.headers.get('location')!
      const abort = await post(`${run}/abort`, { _csrf: csrf }, { cookie: loggedIn, origin: base })
      expect(abort.status).toBe(303)
    },
    TEST_TIMEOUT_MS,
  )

  it(
    `draws a ${FAN_OUT}-step fan-out as one group with counts`,
    async () => {
      await page.goto(`${server.baseUrl}/ui/flows`)
      await page.locator('#flow-fanout form.trigger button[type=submit]').click()
      await page.waitForURL(/\/ui\/runs\/[^/?]+$/)
      const group = page.locator('svg.dag g.node.group')
      await group.first().waitFor()
      expect(await group.count()).toBe(1)
      expect(await group.locator('text.label').textContent()).toBe(`process ×${FAN_OUT}`)
      // split, the group, merge: three boxes for 202 steps.
      expect(await page.locator('svg.dag g.node').count()).toBe(3)
      // Caught part-way when the machine is slow enough; otherwise all done: both are worth a look.
      await poll(() => group.locator('text.sub').textContent()).toMatch(/completed|running/)
      await shot('fanout-200-running')
      await poll(() => page.locator('#live').getAttribute('data-status'), SLOW_MS * 2).toBe('completed')
      expect(await group.locator('text.sub').textContent()).toBe(`${FAN_OUT} completed`)
      // Clicking the group opens its list of steps.
      await group.click()
      await poll(() => page.locator('details[id^="group-fan-"]').getAttribute('open')).not.toBeNull()
      expect(await page.locator('details[id^="group-fan-"] tr.step-row').count()).toBe(FAN_OUT)
      await shot('fanout-200-grouped')
      await page.emulateMedia({ colorScheme: 'dark' })
      await shot('fanout-200-grouped-dark')
      await page.emulateMedia({ colorScheme: 'light' })
    },
    TEST_TIMEOUT_MS,
  )
})

if (skip) {
  describe('dashboard in Chromium', () => {
    it.skip('skipped: MAXQ_TEST_SKIP_BROWSER=1 and no Chromium installed', () => {})
  })
}
