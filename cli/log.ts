// One line per event on stderr, filtered by LOG_LEVEL: text for systemd's journal and cron mail, or
// with LOG_FORMAT=json one JSON object per line ({time, level, name, message}) for log shippers.

const ORDER = { debug: 10, info: 20, warn: 30, error: 40 } as const
export type Level = keyof typeof ORDER

/** `fields` are JSON members of the line with LOG_FORMAT=json (the text line's message says them). */
export type Logger = Record<Level, (message: string, fields?: Record<string, unknown>) => void>

export type Format = 'text' | 'json'

export function createLogger(level: Level, format: Format = 'text', name = 'maxq'): Logger {
  const at =
    (lineLevel: Level) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (ORDER[lineLevel] < ORDER[level]) return
      const time = new Date().toISOString()
      process.stderr.write(
        format === 'json'
          ? `${JSON.stringify({ ...fields, time, level: lineLevel, name, message })}\n`
          : `${time} ${lineLevel.toUpperCase()} ${name}: ${message}\n`,
      )
    }
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
