// Captures a stream in O(limit) memory: the first half of the limit is kept as it arrives, the last
// half in a ring buffer, and whatever fell in between is counted and shown as one marker line.

import { MAX_CAPTURED_OUTPUT_BYTES } from './limits.js'

/** The line that stands for the bytes a capture dropped, as toString() writes it. */
export const OMITTED_MARKER = /…\[maxq: \d+ bytes omitted\]…/

export class BoundedOutput {
  /** The head is kept as the chunks that arrived (most scripts print little: no big buffer then). */
  readonly #headChunks: Buffer[] = []
  readonly #headSize: number
  readonly #tailSize: number
  /** Allocated only once the head is full, i.e. only for chatty scripts. */
  #tail: Buffer | null = null
  #headLength = 0
  /** Bytes ever written into the tail ring; the ring's write position is this modulo its size. */
  #tailWritten = 0
  #totalBytes = 0

  constructor(maxBytes: number = MAX_CAPTURED_OUTPUT_BYTES) {
    const limit = Math.max(0, Math.floor(maxBytes))
    this.#headSize = Math.ceil(limit / 2)
    this.#tailSize = limit - this.#headSize
  }

  /** Bytes seen so far, kept or not. */
  get totalBytes(): number {
    return this.#totalBytes
  }

  /** Bytes seen but not kept. */
  get omittedBytes(): number {
    return this.#totalBytes - this.#headLength - Math.min(this.#tailWritten, this.#tailSize)
  }

  write(chunk: Buffer | string): void {
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    this.#totalBytes += data.length
    if (this.#headLength < this.#headSize) {
      const take = Math.min(data.length, this.#headSize - this.#headLength)
      // Copy: the stream may reuse the chunk's memory, and a slice would pin a large buffer.
      this.#headChunks.push(Buffer.from(data.subarray(0, take)))
      this.#headLength += take
      data = data.subarray(take)
    }
    if (data.length === 0 || this.#tailSize === 0) return
    const size = this.#tailSize
    const tail = (this.#tail ??= Buffer.alloc(size))
    // Only the last `size` bytes of a large chunk can survive; skip the rest without copying it.
    if (data.length > size) {
      this.#tailWritten += data.length - size
      data = data.subarray(data.length - size)
    }
    let at = this.#tailWritten % size
    let from = 0
    while (from < data.length) {
      const copied = data.copy(tail, at, from, Math.min(data.length, from + (size - at)))
      from += copied
      at = (at + copied) % size
    }
    this.#tailWritten += data.length
  }

  /**
   * The kept text; a marker replaces what was dropped, and no UTF-8 character is cut in half.
   * NUL characters are dropped: PostgreSQL text cannot hold them, and a report that can never be
   * stored would be retried forever.
   */
  toString(): string {
    return this.#text().replaceAll('\u0000', '')
  }

  #text(): string {
    const head = Buffer.concat(this.#headChunks, this.#headLength)
    const tail = this.#tailBytes()
    const omitted = this.omittedBytes
    if (omitted === 0) return Buffer.concat([head, tail]).toString('utf8')
    const headEnd = completeUtf8Length(head)
    const tailStart = firstCharacterStart(tail)
    const dropped = omitted + (head.length - headEnd) + tailStart
    return (
      head.subarray(0, headEnd).toString('utf8') +
      `…[maxq: ${dropped} bytes omitted]…` +
      tail.subarray(tailStart).toString('utf8')
    )
  }

  #tailBytes(): Buffer {
    const tail = this.#tail
    if (tail === null) return Buffer.alloc(0)
    const size = tail.length
    if (this.#tailWritten <= size) return tail.subarray(0, this.#tailWritten)
    const at = this.#tailWritten % size
    return Buffer.concat([tail.subarray(at), tail.subarray(0, at)])
  }
}

/** Length of `bytes` without a trailing, incomplete UTF-8 sequence. */
function completeUtf8Length(bytes: Buffer): number {
  // Walk back over at most three continuation bytes to the lead byte of the last character.
  for (let i = bytes.length - 1, seen = 0; i >= 0 && seen < 4; i--, seen++) {
    const byte = bytes[i] ?? 0
    if ((byte & 0xc0) === 0x80) continue
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1
    return bytes.length - i >= needed ? bytes.length : i
  }
  return bytes.length
}

/** Index of the first byte that is not a UTF-8 continuation byte (at most 3 are skipped). */
function firstCharacterStart(bytes: Buffer): number {
  let i = 0
  while (i < bytes.length && i < 3 && ((bytes[i] ?? 0) & 0xc0) === 0x80) i++
  return i
}
