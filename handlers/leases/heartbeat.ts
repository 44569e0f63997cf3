// POST /api/v1/leases/heartbeat (internal): a supervisor renews the leases of the processes it
// runs. Leases no longer live (aborted, reaped, ended) come back in `lost`, and the supervisor
// terminates their process groups.

import { Hono } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../app-env.js'
import { Identifier } from '../shared-schemas.js'
import { body } from '../validate.js'

export const MAX_LEASES_PER_HEARTBEAT = 10_000

export const HeartbeatBody = v.object({
  workerId: Identifier,
  leases: v.pipe(v.array(v.pipe(v.string(), v.maxLength(512))), v.maxLength(MAX_LEASES_PER_HEARTBEAT)),
})

export const heartbeat = new Hono<AppEnv>().post('/leases/heartbeat', body(HeartbeatBody), async (c) => {
  const { workerId, leases } = c.req.valid('json')
  const { lost } = await c.get('store').heartbeat(workerId, leases, c.get('clock').now())
  return c.json({ lost })
})
