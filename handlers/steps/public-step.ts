// A step as the API shows it: secret-looking env values (security/secret-names.ts) read ***. The
// step itself still gets them; nobody who can read the API does.

import type { Step } from '../../db/types.js'
import { maskEnv } from '../../security/secret-names.js'

export function publicStep(step: Step): Step {
  const env = maskEnv(step.env)
  return env === step.env ? step : { ...step, env }
}
