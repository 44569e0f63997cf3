// A worker's one pool of step slots (scheduler/slot-pool.ts), on plain values: whatever mix of
// holds, hand-overs and ends, what is held and running never goes above the limit.

import { describe, expect, it } from 'vitest'
import { SlotPool } from '../../scheduler/slot-pool.js'

describe('SlotPool', () => {
  it('holds only free slots, and frees what a claim did not fill', () => {
    const slots = new SlotPool(3)
    expect(slots.hold(10)).toBe(3)
    expect(slots.hold(1)).toBe(0)
    slots.launched(3, ['step/r/a/1'])
    expect(slots.used).toBe(1)
    expect(slots.hold(10)).toBe(2)
    slots.launched(2, [])
    expect(slots.used).toBe(1)
  })

  it('hands an ending step’s slot to its exit’s claim once, and never twice', () => {
    const slots = new SlotPool(1)
    expect(slots.hold(1)).toBe(1)
    slots.launched(1, ['step/r/a/1'])
    expect(slots.hold(1)).toBe(0)
    expect(slots.handOver('step/r/a/1')).toBe(1)
    // A report sent again, or the process's end after the hand-over, frees nothing more.
    expect(slots.handOver('step/r/a/1')).toBe(0)
    slots.ended('step/r/a/1')
    expect(slots.hold(1)).toBe(0)
    slots.launched(1, ['step/r/b/1'])
    expect(slots.used).toBe(1)
    slots.ended('step/r/b/1')
    expect(slots.used).toBe(0)
  })

  it('refuses a claim that took more steps than it held', () => {
    const slots = new SlotPool(2)
    const held = slots.hold(1)
    expect(() => slots.launched(held, ['step/r/a/1', 'step/r/b/1'])).toThrow(/holding 1 slot/)
  })

  it('never goes above the limit, whatever the order of holds, hand-overs and ends', () => {
    const limit = 4
    const slots = new SlotPool(limit)
    const running: string[] = []
    let next = 0
    let seed = 7
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    for (let i = 0; i < 2_000; i++) {
      const action = random(3)
      if (action === 0) {
        const held = slots.hold(1 + random(5))
        const took = Array.from({ length: random(held + 1) }, () => `step/r/s${next++}/1`)
        slots.launched(held, took)
        running.push(...took)
      } else if (running.length > 0) {
        const [lease] = running.splice(random(running.length), 1)
        if (action === 1) {
          const held = slots.handOver(lease!)
          const took = held > 0 && random(2) === 0 ? [`step/r/s${next++}/1`] : []
          slots.launched(held, took)
          running.push(...took)
        }
        slots.ended(lease!)
      }
      expect(slots.used).toBeLessThanOrEqual(limit)
      expect(slots.used).toBe(running.length)
    }
  })
})
