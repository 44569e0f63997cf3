import { describe, expect, it } from 'vitest'
import { openStore } from '../../db/open-store.js'
import { DEFAULT_RUN_END_GRACE_MS } from '../../db/sql-store.js'
import { runTokens } from '../../security/run-token.js'
import { testDatabases } from '../support/dialects.js'
import { failRunByFlowExit } from '../support/drive-run.js'

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

  it('takes a run token until the run-end grace after its run ended, and never for no such run', async () => {
    const opened = await database.open()
    try {
      const run = await opened.store.createRun({ flowName: 'demo' }, Date.now())
      expect(await opened.store.runTokenWorks(run.id, Date.now())).toBe(true)
      expect(await opened.store.runTokenWorks('no-such-run', Date.now())).toBe(false)
      await failRunByFlowExit(opened.store, run.id)
      const ended = (await opened.store.getRun(run.id))?.completedAt ?? 0
      expect(ended).toBeGreaterThan(0)
      expect(await opened.store.runTokenWorks(run.id, ended + DEFAULT_RUN_END_GRACE_MS - 1)).toBe(true)
      expect(await opened.store.runTokenWorks(run.id, ended + DEFAULT_RUN_END_GRACE_MS)).toBe(false)
    } finally {
      await opened.dispose()
    }
  })
})
