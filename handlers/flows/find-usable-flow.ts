// What a trigger needs before it creates a run: the flow exists (else 404 FLOW_NOT_FOUND) and its
// flow.sh can be run (else 400 FLOW_NOT_USABLE, saying why), so a run is never created for a flow
// that would fail on its first call with an unhelpful spawn error.

import type { Catalog } from '../../catalog/flow-catalog.js'
import type { FlowInfo } from '../../catalog/discover-flows.js'
import { ApiError, apiErrorFromOutcome } from '../errors.js'

export async function findUsableFlow(catalog: Catalog, flowName: string): Promise<FlowInfo> {
  const flow = await catalog.findFlow(flowName, { steps: false })
  if (flow === null) throw apiErrorFromOutcome('FLOW_NOT_FOUND', { flowName })
  if (flow.problem !== null) {
    throw new ApiError(400, 'FLOW_NOT_USABLE', `Flow ${flowName} cannot be run: ${flow.problem.reason}`, {
      flowName,
      kind: flow.problem.kind,
      reason: flow.problem.reason,
    })
  }
  return flow
}
