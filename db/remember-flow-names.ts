/** How many runs' flow names a store keeps: a few per run in flight is plenty. */
export const REMEMBERED_FLOW_NAMES = 1024

export interface FlowNames {
  /** The run's flow name, from memory or else read; null for an unknown run. */
  of(runId: string): Promise<string | null>
  /** What this store just wrote or claimed: a run it created, a run whose flow call it took. */
  remember(runId: string, flowName: string): void
}

/**
 * Wraps the flow-name read with a small memory. A run's flow never changes (nothing updates
 * `runs.flow_name`, and run ids are random UUIDs), so a name read once stays true: a flow that
 * posts stage after stage costs one read, not one per stage, and none when this store created the
 * run or claimed its callback. Unknown runs are not remembered, so a run created later by another
 * process is found. The oldest entry goes first when it is full.
 */
export function rememberFlowNames(
  read: (runId: string) => Promise<string | null>,
  capacity = REMEMBERED_FLOW_NAMES,
): FlowNames {
  const names = new Map<string, string>()
  const remember = (runId: string, flowName: string): void => {
    names.delete(runId)
    names.set(runId, flowName)
    if (names.size > capacity) names.delete(names.keys().next().value as string)
  }
  return {
    async of(runId) {
      const known = names.get(runId)
      if (known !== undefined) return known
      const name = await read(runId)
      if (name !== null) remember(runId, name)
      return name
    },
    remember,
  }
}
