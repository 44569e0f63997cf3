// Slot arithmetic of a schedule, as pure functions over epoch milliseconds: cron-parser steps the
// cron in the schedule's time zone (UTC when it names none), the rest is plain decisions.

import { CronExpressionParser } from 'cron-parser'
import type { CatchUp } from './flow-schedules.js'

/** At most this many missed slots of one schedule are started in one tick under `catchUp: "all"`. */
export const MAX_CATCH_UP_SLOTS = 100

/** Under `catchUp: "none"`, a slot is still "due now" this long after its time (at most one period). */
export const NONE_WINDOW_MS = 60_000

export interface Cron {
  cron: string
  timezone: string | null
}

function parse(schedule: Cron, from: number) {
  return CronExpressionParser.parse(schedule.cron, {
    currentDate: new Date(from),
    ...(schedule.timezone ? { tz: schedule.timezone } : {}),
  })
}

/** The first slot strictly after `after`. */
export function nextSlotAt(schedule: Cron, after: number): number {
  return parse(schedule, after).next().getTime()
}

/** The slots in (after, until], oldest first, at most `limit`. */
export function slotsBetween(schedule: Cron, after: number, until: number, limit: number): number[] {
  const slots: number[] = []
  const expression = parse(schedule, after)
  while (slots.length < limit) {
    const slot = expression.next().getTime()
    if (slot > until) break
    slots.push(slot)
  }
  return slots
}

/** The latest slot at or before `at`, or null when there is none in the last year or so. */
export function latestSlotAt(schedule: Cron, at: number): number | null {
  const next = nextSlotAt(schedule, at)
  // cron-parser's prev() is strictly before its current date; from just after `at` it includes `at`.
  const expression = parse(schedule, at + 1)
  try {
    const slot = expression.prev().getTime()
    return slot <= at && slot < next ? slot : null
  } catch {
    return null
  }
}

export interface DueQuestion extends Cron {
  catchUp: CatchUp
  /** The newest slot this schedule has already decided (started, skipped or first seen). */
  lastSlotAt: number
  now: number
}

/**
 * The slots to start now, oldest first: those after `lastSlotAt` and at or before `now`, narrowed by
 * catchUp. `latest` keeps the newest; `none` keeps the newest only while it is within
 * NONE_WINDOW_MS (and one period) of now; `all` keeps each, the oldest MAX_CATCH_UP_SLOTS first.
 */
export function dueSlots(question: DueQuestion): number[] {
  const { lastSlotAt, now, catchUp } = question
  if (now <= lastSlotAt) return []
  if (catchUp === 'all') return slotsBetween(question, lastSlotAt, now, MAX_CATCH_UP_SLOTS)
  const latest = latestSlotAt(question, now)
  if (latest === null || latest <= lastSlotAt) return []
  if (catchUp === 'latest') return [latest]
  const periodMs = nextSlotAt(question, latest) - latest
  return now - latest <= Math.min(NONE_WINDOW_MS, periodMs) ? [latest] : []
}
