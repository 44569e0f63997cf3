// Runs one client subcommand: its options parsed strictly, `--help` answered without touching the
// API, the client made from MAXQ_URL and MAXQ_API_TOKEN alone.

import { parseArgs } from 'node:util'
import { ClientError, createClient, DEFAULT_URL } from './api-client.js'
import { CLIENT_COMMANDS, type Values } from './commands.js'

export function clientHelp(name: string): string {
  const command = CLIENT_COMMANDS[name]
  if (command === undefined) throw new ClientError(`unknown command ${name}`)
  return `usage: ${command.usage}\n${command.summary}\nenvironment: MAXQ_URL (default ${DEFAULT_URL}), MAXQ_API_TOKEN\n`
}

/** Answers the process exit code. */
export async function runClientCommand(
  name: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const command = CLIENT_COMMANDS[name]
  if (command === undefined) throw new ClientError(`unknown command ${name}`)
  let parsed: { values: Values; positionals: string[] }
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
    }) as { values: Values; positionals: string[] }
  } catch (error) {
    throw new ClientError(
      `${error instanceof Error ? error.message : String(error)}\nusage: ${command.usage}`,
    )
  }
  if (parsed.values.help) {
    process.stdout.write(clientHelp(name))
    return 0
  }
  const client = createClient({
    url: env.MAXQ_URL?.trim() || DEFAULT_URL,
    token: env.MAXQ_API_TOKEN?.trim() || undefined,
  })
  return command.run(client, parsed.values, parsed.positionals, {
    out: (text) => process.stdout.write(text),
    tty: process.stdout.isTTY === true,
  })
}
