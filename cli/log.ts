// One line per event on stderr, filtered by LOG_LEVEL. Enough for systemd's journal and for cron mail.

const ORDER = { debug: 10, info: 20, warn: 30, error: 40 } as const
export type Level = keyof typeof ORDER

export type Logger = Record<Level, (message: string) => void>

export function createLogger(level: Level, name = 'maxq'): Logger {
  const at =
    (lineLevel: Level) =>
    (message: string): void => {
      if (ORDER[lineLevel] < ORDER[level]) return
      process.stderr.write(`${new Date().toISOString()} ${lineLevel.toUpperCase()} ${name}: ${message}\n`)
    }
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
