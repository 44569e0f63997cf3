/** How many runs' flow names a store keeps: a few per run in flight is plenty. */
export const REMEMBERED_FLOW_NAMES = 1024

/**
 * Wraps the flow-name read with a small memory. A run's flow never changes (nothing updates
 * `runs.flow_name`, and run ids are random UUIDs), so a name read once stays true: a flow that
 * posts stage after stage costs one read, not one per stage. Unknown runs are not remembered, so a
 * run created later by another process is found. The oldest entry goes first when it is full.
 */
export function rememberFlowNames(
  read: (runId: string) => Promise<string | null>,
  capacity = REMEMBERED_FLOW_NAMES,
): (runId: string) => Promise<string | null> {
  const names = new Map<string, string>()
  return async (runId) => {
    const known = names.get(runId)
    if (known !== undefined) return known
    const name = await read(runId)
    if (name === null) return null
    names.set(runId, name)
    if (names.size > capacity) names.delete(names.keys().next().value as string)
    return name
  }
}
