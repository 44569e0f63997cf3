// The floor's stand-in for MaxQ: a tiny node:http server that accepts the same field POST (parses
// the JSON, keeps the last fields per path) and answers 200. Run as its own process, like MaxQ;
// prints its port on stdout.

import { createServer } from 'node:http'

const fields = new Map<string, unknown>()

const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    let status = 200
    if (req.method === 'POST') {
      try {
        fields.set(req.url ?? '/', JSON.parse(Buffer.concat(chunks).toString('utf8')))
      } catch {
        status = 400
      }
    }
    const body = JSON.stringify({ ok: status === 200 })
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
})

server.keepAliveTimeout = 5000
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(`${typeof address === 'object' && address !== null ? address.port : 0}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
