// The floor of a read from PostgreSQL: a bare node:http server that answers GET …/runs/{id} with
// the run and its stages read from the MaxQ server's own database, through postgres.js on one
// connection, as any hand-written service would (one statement, JSON.stringify of the row). What it
// costs is what the client library and PostgreSQL cost on this machine, with no orchestrator: the
// floor server answers from memory, and PostgreSQL here shares the cores with both. Run as its own
// process with the database URL as its argument; prints its port on stdout.

import { createServer, type ServerResponse } from 'node:http'
import postgres from 'postgres'

const url = process.argv[2]
if (url === undefined) throw new Error('usage: lookup-floor-server <database-url>')
const db = postgres(url, { max: 1, onnotice: () => undefined })

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

const server = createServer((req, res) => {
  const runId = decodeURIComponent(req.url?.split('/').pop() ?? '')
  db`SELECT runs.*, (SELECT json_agg(stages ORDER BY seq) FROM stages WHERE stages.run_id = runs.id) AS stages
     FROM runs WHERE id = ${runId}`.then(
    (rows) => (rows[0] === undefined ? answer(res, 404, '{}') : answer(res, 200, JSON.stringify(rows[0]))),
    (error: unknown) => answer(res, 500, JSON.stringify({ error: String(error) })),
  )
  req.resume()
})

server.keepAliveTimeout = 5000
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(`${typeof address === 'object' && address !== null ? address.port : 0}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
