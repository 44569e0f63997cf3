// The slots of flow.json schedules. A slot is decided once, by whichever tick inserts its row
// first: the row's primary key (flow, schedule index, slot time) and INSERT … ON CONFLICT DO
// NOTHING make the race safe on both dialects, and the run a won slot starts is created in the
// same transaction, so a slot never has a run without its row or a row claiming a run that was
// never made. The newest slot row of a schedule is where every tick resumes from.

import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Json, Run } from '../types.js'
import { createRun } from './create-run.js'
import { list, type Tx } from './tx.js'

export interface ScheduleSlot {
  flowName: string
  scheduleIndex: number
  slotAt: number
}

export interface ScheduledRunRequest extends ScheduleSlot {
  /** `skip`: decide the slot as skipped while a run an earlier slot started is still open. */
  overlap: 'skip' | 'allow'
  input: Json
  metadata: Json
}

/** `started` made the run; `skipped` decided the slot without one; `taken` lost it to another tick. */
export type SlotDecision = { outcome: 'started'; run: Run } | { outcome: 'skipped' | 'taken' }

export interface LastSlot {
  flowName: string
  scheduleIndex: number
  lastSlotAt: number
}

/** The newest decided slot of each schedule of these flows (schedules with none are absent). */
export async function lastScheduleSlots(tx: Tx, flowNames: readonly string[]): Promise<LastSlot[]> {
  if (flowNames.length === 0) return []
  const rows = await tx.q.all<{
    flow_name: string
    schedule_index: number | string
    last: number | string
  }>(sql`
    SELECT flow_name, schedule_index, MAX(slot_at) AS last FROM schedule_slots
    WHERE flow_name IN (${list(flowNames)})
    GROUP BY flow_name, schedule_index`)
  return rows.map((row) => ({
    flowName: row.flow_name,
    scheduleIndex: Number(row.schedule_index),
    lastSlotAt: Number(row.last),
  }))
}

/**
 * Marks a schedule first seen at `slot.slotAt` (a row with no run) when it has no row yet: slots at
 * or before it are never started. False when a row was already there.
 */
export async function markScheduleSeen(tx: Tx, slot: ScheduleSlot, now: number): Promise<boolean> {
  const rows = await tx.q.all(sql`
    INSERT INTO schedule_slots (flow_name, schedule_index, slot_at, outcome, run_id, created_at)
    SELECT ${slot.flowName}, ${slot.scheduleIndex}, ${slot.slotAt}, 'seen', NULL, ${now}
    WHERE NOT EXISTS (
      SELECT 1 FROM schedule_slots WHERE flow_name = ${slot.flowName} AND schedule_index = ${slot.scheduleIndex})
    ON CONFLICT DO NOTHING
    RETURNING slot_at`)
  return rows.length > 0
}

/** Decides one slot: inserts its row and, unless skipped, the run and its first flow call. */
export async function startScheduledRun(
  tx: Tx,
  request: ScheduledRunRequest,
  now: number,
): Promise<SlotDecision> {
  const { flowName, scheduleIndex, slotAt } = request
  const open =
    request.overlap === 'skip' &&
    (
      await tx.q.all(sql`
        SELECT 1 AS open FROM schedule_slots s JOIN runs r ON r.id = s.run_id
        WHERE s.flow_name = ${flowName} AND s.schedule_index = ${scheduleIndex} AND s.slot_at < ${slotAt}
          AND r.status IN ('pending', 'running', 'paused')
        LIMIT 1`)
    ).length > 0
  const runId = open ? null : randomUUID()
  const won = await tx.q.all(sql`
    INSERT INTO schedule_slots (flow_name, schedule_index, slot_at, outcome, run_id, created_at)
    VALUES (${flowName}, ${scheduleIndex}, ${slotAt}, ${open ? 'skipped' : 'started'}, ${runId}, ${now})
    ON CONFLICT DO NOTHING
    RETURNING slot_at`)
  if (won.length === 0) return { outcome: 'taken' }
  if (runId === null) return { outcome: 'skipped' }
  const run = await createRun(tx, { flowName, input: request.input, metadata: request.metadata }, now, runId)
  return { outcome: 'started', run }
}
