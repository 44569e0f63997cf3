// A tiny keep-alive JSON client on node:http, loopback only: the bench's own traffic (triggering,
// polling) and the load generator of the `api` workload share it.

import { Agent, request } from 'node:http'

export interface HttpResponse {
  status: number
  body: string
}

export class HttpClient {
  readonly agent: Agent
  readonly #base: URL

  /** `base` like http://127.0.0.1:3111 (no trailing slash). */
  constructor(base: string, maxSockets = 8) {
    this.#base = new URL(base)
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(this.#base.hostname)) {
      throw new Error(`bench: refusing a non-loopback target ${base}`)
    }
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets })
  }

  send(method: string, path: string, body?: unknown, retried = false): Promise<HttpResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.#base.hostname,
          port: this.#base.port,
          method,
          path,
          headers:
            payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          )
          res.on('error', reject)
        },
      )
      req.on('error', (error: NodeJS.ErrnoException) => {
        // The server closes a keep-alive connection idle for its timeout (5 s); a request sent on it
        // at that moment never reached the server (the race node's docs describe), so it is sent
        // once more, on a new connection.
        if (req.reusedSocket && error.code === 'ECONNRESET' && !retried) {
          this.send(method, path, body, true).then(resolve, reject)
        } else {
          reject(error)
        }
      })
      req.end(payload)
    })
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body)
    if (res.status >= 400)
      throw new Error(`bench: ${method} ${path} answered ${res.status}: ${res.body.slice(0, 300)}`)
    return JSON.parse(res.body) as T
  }

  close(): void {
    this.agent.destroy()
  }
}
