import { describe, expect, it } from 'vitest'
import { BoundedOutput } from '../../runtime/bounded-output.js'

describe('BoundedOutput', () => {
  it('keeps everything under the limit', () => {
    const out = new BoundedOutput(16)
    out.write('hello ')
    out.write(Buffer.from('world'))
    expect(out.toString()).toBe('hello world')
    expect(out.omittedBytes).toBe(0)
  })

  it('keeps exactly the limit without a marker', () => {
    const out = new BoundedOutput(10)
    out.write('0123456789')
    expect(out.toString()).toBe('0123456789')
  })

  it('keeps the head and the tail and says how much was dropped', () => {
    const out = new BoundedOutput(10)
    for (const c of 'abcdefghijklmnopqrstuvwxyz') out.write(c)
    expect(out.toString()).toBe('abcde…[maxq: 16 bytes omitted]…vwxyz')
    expect(out.totalBytes).toBe(26)
    expect(out.omittedBytes).toBe(16)
  })

  it('handles chunks larger than the whole limit', () => {
    const out = new BoundedOutput(8)
    out.write('AB')
    out.write('x'.repeat(1000) + 'WXYZ')
    out.write('!')
    expect(out.toString()).toBe('ABxx…[maxq: 999 bytes omitted]…XYZ!')
  })

  it('wraps the tail ring across many writes', () => {
    const out = new BoundedOutput(6)
    const text = Array.from({ length: 50 }, (_, i) => String(i % 10)).join('')
    for (let i = 0; i < text.length; i += 4) out.write(text.slice(i, i + 4))
    expect(out.toString()).toBe(`012…[maxq: 44 bytes omitted]…${text.slice(-3)}`)
  })

  it('does not cut a UTF-8 character at either edge of the gap', () => {
    const out = new BoundedOutput(8)
    // 'é' is 2 bytes, '€' is 3: a byte cut would leave replacement characters.
    out.write('aé€' + '-'.repeat(20) + '€é')
    const text = out.toString()
    expect(text).not.toContain('\uFFFD')
    expect(text).toMatch(/^aé…\[maxq: \d+ bytes omitted\]…é$/)
    const omitted = Number(/(\d+) bytes/.exec(text)?.[1])
    expect(omitted).toBe(Buffer.byteLength('aé€' + '-'.repeat(20) + '€é') - Buffer.byteLength('aéé'))
  })

  it('stays bounded for a large stream', () => {
    const out = new BoundedOutput(1024)
    const chunk = Buffer.alloc(64 * 1024, 'z')
    for (let i = 0; i < 1024; i++) out.write(chunk) // 64 MiB
    expect(out.totalBytes).toBe(64 * 1024 * 1024)
    expect(out.toString().length).toBeLessThan(1100)
  })

  it('a zero limit keeps nothing but the count', () => {
    const out = new BoundedOutput(0)
    out.write('abc')
    expect(out.toString()).toBe('…[maxq: 3 bytes omitted]…')
  })
})
