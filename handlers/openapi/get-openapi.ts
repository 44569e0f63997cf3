// GET /api/v1/openapi.json: the OpenAPI 3.1 document (build-document.ts). Open to anyone, like
// /health: it describes routes, not data, and holds nothing secret; a client needs it before it
// has a token to use.

import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { openApiDocument } from './build-document.js'

export const getOpenApi = new Hono<AppEnv>().get('/openapi.json', (c) => c.json(openApiDocument()))
