// Everything the bench starts registers a stopper here, so a normal end, an error and Ctrl-C all
// leave no process (server, steps, floor server) and no temp directory behind.

type Stopper = () => Promise<void> | void

const stoppers = new Set<Stopper>()
let installed = false

export function onCleanup(stop: Stopper): () => void {
  stoppers.add(stop)
  install()
  return () => {
    stoppers.delete(stop)
  }
}

export async function cleanupAll(): Promise<void> {
  const list = [...stoppers].reverse()
  stoppers.clear()
  for (const stop of list) {
    try {
      await stop()
    } catch (error) {
      process.stderr.write(`bench: cleanup failed: ${String(error)}\n`)
    }
  }
}

function install(): void {
  if (installed) return
  installed = true
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping everything it started\n`)
      void cleanupAll().finally(() => process.exit(130))
    })
  }
}
