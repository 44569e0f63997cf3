// vitest globalSetup: one PostgreSQL server for the whole `vitest run`. MAXQ_TEST_DATABASE_URL names
// a server to use as is; otherwise a throwaway cluster is started here and stopped at the end, from
// the system's server binaries or, where none are installed, the npm package's (postgres-cluster.ts).
// A database migrated once here is the template every test database is copied from
// (test/support/dialects.ts), so a test pays for CREATE DATABASE but not for the migrations.
// Workers read both names with inject().

import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import type { TestProject } from 'vitest/node'
import { openStore } from '../../db/open-store.js'
import { startPostgresCluster } from './postgres-cluster.js'
import { NATIVE_SKIP_NOTE, TEST_SPAWNER } from './spawner.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The server's maintenance database, as a superuser (or a user who may create databases). */
    maxqTestDatabaseUrl: string
    /** A database with the current migrations applied, to copy with CREATE DATABASE … TEMPLATE. */
    maxqTestTemplateDatabase: string
  }
}

async function createTemplate(serverUrl: string): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `maxq_template_${randomBytes(6).toString('hex')}`
  const admin = postgres(serverUrl, { max: 1, onnotice: () => undefined })
  const drop = async () => {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end({ timeout: 5 })
  }
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`)
    const url = new URL(serverUrl)
    url.pathname = `/${name}`
    // openStore applies the migrations; closing it leaves no session on the template to copy.
    const store = await openStore({ databaseUrl: url.toString() })
    await store.close()
  } catch (error) {
    await drop()
    throw error
  }
  return { name, drop }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.MAXQ_TEST_DATABASE_URL
  const cluster = given ? null : await startPostgresCluster()
  const serverUrl = given || cluster!.url
  console.log(`maxq tests: PostgreSQL from ${cluster === null ? 'MAXQ_TEST_DATABASE_URL' : cluster.binaries}`)
  console.log(
    `maxq tests: test servers start scripts with ${TEST_SPAWNER} (MAXQ_SPAWNER=${process.env.MAXQ_SPAWNER || 'auto'})`,
  )
  if (NATIVE_SKIP_NOTE !== null) {
    console.log(`maxq tests: the posix_spawn tests are skipped: ${NATIVE_SKIP_NOTE}`)
  }
  try {
    const template = await createTemplate(serverUrl)
    project.provide('maxqTestDatabaseUrl', serverUrl)
    project.provide('maxqTestTemplateDatabase', template.name)
    return async () => {
      await template.drop().catch(() => undefined)
      await cluster?.stop()
    }
  } catch (error) {
    await cluster?.stop()
    throw error
  }
}
