// The runs the soak triggers: fan-outs, chains and two-stage runs of the `faults` flow
// (test/faults/fault-flow.ts), every step with `maxRetries: 0`, with short random sleeps so that a
// kill at a random moment finds scripts starting, running, posting and ending.

import { stage, work, type FlowCalls, type StepSpec } from '../faults/fault-flow.js'

export type Random = () => number

/** A small seeded generator (mulberry32), so that a soak can be repeated with --seed. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const between = (random: Random, low: number, high: number): number => low + random() * (high - low)
const pick = <T>(random: Random, values: readonly T[]): T => values[Math.floor(random() * values.length)]!

/** One step: sleeps 0.1–1.5 s, sometimes posts a second field, rarely leaves a child behind. */
function randomStep(random: Random, id: string, dependsOn: string[] = []): StepSpec {
  const env: Record<string, string> = { SLEEP: between(random, 0.1, 1.5).toFixed(2) }
  if (random() < 0.5) env.POST_AFTER = '1'
  if (random() < 0.1) env.BG_CHILD = '1'
  return work(id, { env, ...(dependsOn.length > 0 ? { dependsOn } : {}) })
}

export type Shape = 'fan-out' | 'chain' | 'two-stage'
export const SHAPES: readonly Shape[] = ['fan-out', 'chain', 'two-stage']

/** A flow that sometimes keeps working for a moment after scheduling its stage (issue 17). */
function sleepAfter(random: Random): { sleepAfter?: number } {
  return random() < 0.25 ? { sleepAfter: Number(between(random, 0.2, 1.5).toFixed(2)) } : {}
}

export function randomRun(random: Random): { shape: Shape; calls: FlowCalls } {
  const shape = pick(random, SHAPES)
  if (shape === 'fan-out') {
    const width = 2 + Math.floor(random() * 5)
    const fan = Array.from({ length: width }, (_, i) => randomStep(random, `fan${i}`))
    return {
      shape,
      calls: {
        start: { post: [stage('fan', false, fan)], ...sleepAfter(random) },
        'completed:fan': { post: [stage('join', true, [randomStep(random, 'join')])], ...sleepAfter(random) },
      },
    }
  }
  if (shape === 'chain') {
    const length = 2 + Math.floor(random() * 4)
    const chain = Array.from({ length }, (_, i) => randomStep(random, `c${i}`, i === 0 ? [] : [`c${i - 1}`]))
    return { shape, calls: { start: { post: [stage('chain', true, chain)], ...sleepAfter(random) } } }
  }
  return {
    shape,
    calls: {
      start: {
        post: [stage('first', false, [randomStep(random, 'a1'), randomStep(random, 'a2')])],
        ...sleepAfter(random),
      },
      'completed:first': {
        post: [stage('second', true, [randomStep(random, 'b1'), randomStep(random, 'b2', ['b1'])])],
        ...sleepAfter(random),
      },
    },
  }
}
