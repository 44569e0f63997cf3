import { describe, expect, it } from 'vitest'
import { parseFlowJson } from '../../catalog/flow-schedules.js'
import { dueSlots, latestSlotAt, MAX_CATCH_UP_SLOTS, nextSlotAt } from '../../catalog/schedule-slots.js'

const MINUTE = 60_000
const everyMinute = { cron: '* * * * *', timezone: null }
const at = (iso: string) => Date.parse(iso)

describe('slot arithmetic', () => {
  it('steps 5- and 6-field crons, in a time zone', () => {
    expect(nextSlotAt(everyMinute, at('2026-01-01T00:00:30Z'))).toBe(at('2026-01-01T00:01:00Z'))
    expect(nextSlotAt({ cron: '* * * * * *', timezone: null }, 1_000_500)).toBe(1_001_000)
    // 03:00 in Berlin is 02:00 UTC in winter.
    const berlin = { cron: '0 3 * * *', timezone: 'Europe/Berlin' }
    expect(nextSlotAt(berlin, at('2026-01-01T00:00:00Z'))).toBe(at('2026-01-01T02:00:00Z'))
  })

  it('finds the latest slot at or before a time, that time included', () => {
    expect(latestSlotAt(everyMinute, at('2026-01-01T00:01:00Z'))).toBe(at('2026-01-01T00:01:00Z'))
    expect(latestSlotAt(everyMinute, at('2026-01-01T00:01:59Z'))).toBe(at('2026-01-01T00:01:00Z'))
  })
})

describe('dueSlots', () => {
  const last = at('2026-01-01T00:00:00Z')
  const after3 = last + 3 * MINUTE + 10_000

  it('latest: the newest missed slot once', () => {
    expect(dueSlots({ ...everyMinute, catchUp: 'latest', lastSlotAt: last, now: after3 })).toEqual([
      last + 3 * MINUTE,
    ])
    expect(
      dueSlots({ ...everyMinute, catchUp: 'latest', lastSlotAt: last + 3 * MINUTE, now: after3 }),
    ).toEqual([])
  })

  it('all: each missed slot, oldest first, bounded', () => {
    expect(dueSlots({ ...everyMinute, catchUp: 'all', lastSlotAt: last, now: after3 })).toEqual([
      last + MINUTE,
      last + 2 * MINUTE,
      last + 3 * MINUTE,
    ])
    const long = dueSlots({ ...everyMinute, catchUp: 'all', lastSlotAt: last, now: last + 1000 * MINUTE })
    expect(long).toHaveLength(MAX_CATCH_UP_SLOTS)
    expect(long[0]).toBe(last + MINUTE)
  })

  it('none: only a slot that is due now, within its window', () => {
    expect(dueSlots({ ...everyMinute, catchUp: 'none', lastSlotAt: last, now: after3 })).toEqual([
      last + 3 * MINUTE,
    ])
    const hourly = { cron: '0 * * * *', timezone: null }
    const lateBy2Minutes = last + 3 * 60 * MINUTE + 2 * MINUTE
    expect(dueSlots({ ...hourly, catchUp: 'none', lastSlotAt: last, now: lateBy2Minutes })).toEqual([])
    expect(dueSlots({ ...hourly, catchUp: 'latest', lastSlotAt: last, now: lateBy2Minutes })).toEqual([
      last + 3 * 60 * MINUTE,
    ])
  })

  it('nothing before or at the last slot', () => {
    expect(dueSlots({ ...everyMinute, catchUp: 'all', lastSlotAt: last, now: last })).toEqual([])
    expect(dueSlots({ ...everyMinute, catchUp: 'all', lastSlotAt: last, now: last + 59_999 })).toEqual([])
  })
})

describe('parseFlowJson', () => {
  it('fills the defaults', () => {
    expect(parseFlowJson('{"schedules":[{"cron":"0 3 * * *"}]}')).toEqual({
      problem: null,
      schedules: [
        {
          index: 0,
          cron: '0 3 * * *',
          timezone: null,
          input: null,
          overlap: 'skip',
          catchUp: 'latest',
          enabled: true,
        },
      ],
    })
  })

  it.each([
    ['{', /not valid JSON/],
    ['{"schedule":[]}', /unknown key schedule: the keys are schedules$/],
    ['{"schedules":[{"cron":"* * *"}]}', /schedules\.0\.cron: "\* \* \*" has 3 fields/],
    ['{"schedules":[{"cron":"61 * * * *"}]}', /not a valid cron expression/],
    ['{"schedules":[{"cron":"* * * * *","timezone":"Mars/Base"}]}', /not a known IANA time zone/],
    ['{"schedules":[{"cron":"* * * * *","overlap":"queue"}]}', /overlap must be "skip" or "allow"/],
    [
      '{"schedules":[{"cron":"* * * * *","catchup":"all"}]}',
      /unknown key schedules\.0\.catchup: the keys are cron, timezone, input, overlap, catchUp, enabled/,
    ],
  ])('names the mistake in %s', (text, reason) => {
    const parsed = parseFlowJson(text)
    expect(parsed.schedules).toEqual([])
    expect(parsed.problem).toMatch(reason)
  })
})
