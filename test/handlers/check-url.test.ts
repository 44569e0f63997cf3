// urlProblem's shortcut: a URL of visible ASCII without `%` is taken as it is; anything else is
// decoded part by part and refused for what it decodes to. (test/hostile/ sends the same values
// through the whole app.)

import { describe, expect, it } from 'vitest'
import { urlProblem } from '../../handlers/check-url.js'

describe('urlProblem', () => {
  it('accepts a URL of visible ASCII at once, whatever its punctuation', () => {
    expect(urlProblem("http://h/api/v1/runs/a-b_c.d~e!$&'()*+,;=:@/steps?x=1&y=a+b&z")).toBeNull()
  })

  it('still decodes and checks every URL that has a % or anything beyond visible ASCII', () => {
    expect(urlProblem('http://h/runs/a%20b')).toBeNull()
    expect(urlProblem('http://h/runs/é')).toBeNull()
    expect(urlProblem('http://h/runs/a%00b')).toMatchObject({ path: 'url' })
    expect(urlProblem('http://h/runs/a%ffb')).toMatchObject({
      message: expect.stringMatching(/percent-encoded/),
    })
    expect(urlProblem('http://h/runs/a\u007fb')).toMatchObject({ message: expect.stringMatching(/control/) })
    expect(urlProblem('http://h/runs/a\u0085b')).toMatchObject({ message: expect.stringMatching(/control/) })
    expect(urlProblem('http://h/runs?note=a%0Ab')).toMatchObject({ path: 'note' })
  })
})
