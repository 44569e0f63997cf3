// The tick's schedule step: start the runs of flow.json schedules whose slots are due. Each slot is
// decided once across every tick process by the store (db/queries/schedule-slots.ts); this file
// decides only which slots to offer (catalog/schedule-slots.ts dueSlots) and when to look again.
//
// Cheap per tick: flow.json files are re-read only when they changed (by mtime and size) and at
// most every CONFIG_REFRESH_MS; the database is asked only when some schedule's next slot has come
// (or the configuration was re-read), so an idle loop at 200 ms pays nothing for schedules.

import type { WorkerStore } from '../db/store.js'
import type { Json } from '../db/types.js'
import { FlowSchedulesReader, type FlowSchedules } from '../catalog/flow-schedules.js'
import { dueSlots, MAX_CATCH_UP_SLOTS, nextSlotAt } from '../catalog/schedule-slots.js'

/** How often flow.json files are looked at again for changes. */
export const CONFIG_REFRESH_MS = 5_000

export interface ScheduleKeeperOptions {
  store: WorkerStore
  flowsRoot: string
  /** Told once per distinct problem of a flow.json. */
  warn: (message: string) => void
}

export class ScheduleKeeper {
  readonly #store: WorkerStore
  readonly #reader: FlowSchedulesReader
  readonly #warn: (message: string) => void
  readonly #warned = new Map<string, string>()
  readonly #unsteppable = new Set<string>()
  #flows: FlowSchedules[] = []
  #readAt = -Infinity
  /** When a slot of some schedule is next due; -Infinity: look now. */
  #nextDueAt = -Infinity

  constructor(opts: ScheduleKeeperOptions) {
    this.#store = opts.store
    this.#reader = new FlowSchedulesReader(opts.flowsRoot)
    this.#warn = opts.warn
  }

  /** True when startDue(now) has something to do: a slot may be due, or flow.json is to be re-read. */
  due(now: number): boolean {
    return now - this.#readAt >= CONFIG_REFRESH_MS || now >= this.#nextDueAt
  }

  /** Starts the runs of the slots due at `now`; answers how many runs this call started. */
  async startDue(now: number): Promise<number> {
    if (now - this.#readAt >= CONFIG_REFRESH_MS) {
      this.#readAt = now
      const before = JSON.stringify(this.#flows)
      this.#flows = await this.#reader.readAll()
      this.#report()
      if (JSON.stringify(this.#flows) !== before) this.#nextDueAt = -Infinity
    }
    if (now < this.#nextDueAt) return 0
    const flows = this.#flows.filter((flow) => flow.schedules.some((schedule) => schedule.enabled))
    if (flows.length === 0) {
      this.#nextDueAt = Infinity
      return 0
    }
    const last = new Map(
      (await this.#store.lastScheduleSlots(flows.map((flow) => flow.flowName))).map((row) => [
        `${row.flowName}/${row.scheduleIndex}`,
        row.lastSlotAt,
      ]),
    )
    let started = 0
    let nextDueAt = Infinity
    for (const flow of flows) {
      for (const schedule of flow.schedules.filter((s) => s.enabled)) {
        const slot = { flowName: flow.flowName, scheduleIndex: schedule.index }
        const lastSlotAt = last.get(`${flow.flowName}/${schedule.index}`)
        if (lastSlotAt === undefined) {
          // A schedule with no history starts from now: no slot before its first sighting runs.
          await this.#store.markScheduleSeen({ ...slot, slotAt: now }, now)
        } else {
          const due = this.#stepped(flow.flowName, schedule.index, () =>
            dueSlots({ ...schedule, lastSlotAt, now }),
          )
          // A full batch of catch-up slots: more are probably missed, so look again next tick.
          if (due.length === MAX_CATCH_UP_SLOTS) nextDueAt = now
          for (const slotAt of due) {
            const metadata: Json = {
              trigger: { type: 'schedule', schedule: schedule.index, slot: slotAt, cron: schedule.cron },
            }
            const decision = await this.#store.startScheduledRun(
              { ...slot, slotAt, overlap: schedule.overlap, input: schedule.input as Json, metadata },
              now,
            )
            if (decision.outcome === 'started') started++
          }
        }
        const next = this.#stepped(flow.flowName, schedule.index, () => [nextSlotAt(schedule, now)])
        nextDueAt = Math.min(nextDueAt, next[0] ?? Infinity)
      }
    }
    this.#nextDueAt = nextDueAt
    return started
  }

  /**
   * The slot arithmetic, or [] when cron-parser cannot step this schedule (a cron it accepted that
   * matches no date it can reach): told once, and the other schedules go on.
   */
  #stepped(flowName: string, index: number, step: () => number[]): number[] {
    try {
      return step()
    } catch (error) {
      const key = `${flowName}/${index}`
      if (!this.#unsteppable.has(key)) {
        this.#unsteppable.add(key)
        this.#warn(`flow ${flowName}: schedules.${index} cannot be stepped: ${(error as Error).message}`)
      }
      return []
    }
  }

  #report(): void {
    const seen = new Set<string>()
    for (const flow of this.#flows) {
      if (flow.problem === null) continue
      seen.add(flow.flowName)
      if (this.#warned.get(flow.flowName) === flow.problem) continue
      this.#warned.set(flow.flowName, flow.problem)
      this.#warn(`flow ${flow.flowName}: ${flow.problem}; its schedules are not run until it is fixed`)
    }
    for (const name of this.#warned.keys()) if (!seen.has(name)) this.#warned.delete(name)
  }
}
