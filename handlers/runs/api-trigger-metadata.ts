// A run records what started it in metadata.trigger: "api" here, an object for a flow.json
// schedule's slot (scheduler/start-scheduled-runs.ts). The caller's own keys are kept; only
// `trigger` is ours. Metadata that is not an object (a list, a string, a number, true/false) is
// kept exactly as sent, without a trigger: a run whose metadata has no trigger came through the
// API too, as did every run before triggers were recorded.

import type { Json } from '../../db/types.js'

export function apiTriggerMetadata(metadata: Json | undefined): Json {
  if (metadata === undefined || metadata === null) return { trigger: 'api' }
  if (typeof metadata !== 'object' || Array.isArray(metadata)) return metadata
  return { ...metadata, trigger: 'api' }
}
