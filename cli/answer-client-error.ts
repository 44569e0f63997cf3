// A request Node's HTTP parser cannot read (a raw control character in the URL, a malformed or
// oversized header, a broken chunked body, Content-Length beside Transfer-Encoding) never reaches
// the app: Node would answer a bare `400 Bad Request` with no body. This answers it in the API's one
// error shape instead, then closes the connection, as Node does.

import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import { ApiError, errorBody } from '../handlers/errors.js'

function errorFor(code: string | undefined): ApiError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError(431, 'HEADERS_TOO_LARGE', 'Request headers are too large', { reason: code })
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new ApiError(413, 'PAYLOAD_TOO_LARGE', 'Chunk extensions are too large', { reason: code })
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError(408, 'REQUEST_TIMEOUT', 'The request was not received in time', { reason: code })
    default:
      return new ApiError(400, 'MALFORMED_REQUEST', 'The request is not valid HTTP', { reason: code ?? null })
  }
}

/** Whether an answer was already started on this socket (the parser failed mid-body). */
function answerStarted(socket: Duplex): boolean {
  const message: unknown = Reflect.get(socket, '_httpMessage')
  return typeof message === 'object' && message !== null && Reflect.get(message, 'headersSent') === true
}

export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable || answerStarted(socket)) {
    socket.destroy()
    return
  }
  const answer = errorFor(error.code)
  const body = JSON.stringify(errorBody(answer))
  socket.end(
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  )
}
