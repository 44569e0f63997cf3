// Sends a server-rendered page. hono/jsx escapes every text and attribute it writes.

import type { Context } from 'hono'
import type { JSX } from 'hono/jsx/jsx-runtime'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { UiEnv } from './ui-env.js'

export async function renderPage(
  c: Context<UiEnv>,
  page: JSX.Element,
  status: ContentfulStatusCode = 200,
): Promise<Response> {
  return c.html(`<!DOCTYPE html>${await page.toString()}`, status)
}

/** The API's `{error, code, details}`, or what it answered instead. */
export function apiErrorText(body: unknown, status: number): { text: string; details: unknown } {
  if (typeof body === 'object' && body !== null && 'error' in body) {
    const error = body as { error: unknown; code?: unknown; details?: unknown }
    return {
      text: `${String(error.error)} (${String(error.code ?? status)})`,
      details: error.details ?? null,
    }
  }
  return {
    text: `The API answered ${status}`,
    details: typeof body === 'string' ? body.slice(0, 2000) : body,
  }
}
