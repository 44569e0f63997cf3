import { describe, expect, it } from 'vitest'
import { openStore } from '../../db/open-store.js'
import { runTokens } from '../../security/run-token.js'
import { testDatabases } from '../support/dialects.js'

describe.each(testDatabases)('the run token key on $name', (database) => {
  it('is made once and shared by every process on the database, however many ask at once', async () => {
    const opened = await database.open()
    const env = opened.databaseEnv
    const others = await Promise.all(
      [1, 2, 3].map(() =>
        openStore({ databaseUrl: env.MAXQ_DATABASE_URL, sqlitePath: env.MAXQ_SQLITE_PATH }),
      ),
    )
    try {
      const keys = await Promise.all([opened.store, ...others].map((store) => store.runTokenKey()))
      expect(new Set(keys).size).toBe(1)
      expect(keys[0]).toMatch(/^[A-Za-z0-9_-]{43}$/)
      // A token one process issues, another checks.
      const token = runTokens(keys[0] ?? '').issue('run-1')
      expect(runTokens(await others[2]!.runTokenKey()).verify(token)).toBe('run-1')
    } finally {
      await Promise.all(others.map((store) => store.close()))
      await opened.dispose()
    }
  })

  it('answers a run status by id, null for none', async () => {
    const opened = await database.open()
    try {
      const run = await opened.store.createRun({ flowName: 'demo' }, 1)
      expect(await opened.store.getRunStatus(run.id)).toBe('pending')
      expect(await opened.store.getRunStatus('no-such-run')).toBeNull()
    } finally {
      await opened.dispose()
    }
  })
})
