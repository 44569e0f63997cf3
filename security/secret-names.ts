// Which variables hold secrets. A step's env value whose name looks secret still reaches the step,
// but MaxQ shows it as *** wherever it would show it: API answers, and the step's captured output.

const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL|AUTH|PRIVATE/i

/** What a secret is shown as. */
export const MASK = '***'

/**
 * Output is not searched for values shorter than this: a one-letter "password" would hide every
 * such letter of a script's output, and a value that short is no secret anyway.
 */
export const MIN_MASKED_OUTPUT_LENGTH = 4

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name)
}

/** The env with every secret-looking value replaced by ***. */
export function maskEnv(env: Record<string, string>): Record<string, string> {
  let masked: Record<string, string> | null = null
  for (const name of Object.keys(env)) {
    if (!isSecretName(name)) continue
    masked ??= { ...env }
    masked[name] = MASK
  }
  return masked ?? env
}

/** The values of an env's secret-looking names that output and logs are searched for. */
export function secretValues(env: Record<string, string>): string[] {
  return Object.entries(env)
    .filter(([name, value]) => isSecretName(name) && value.length >= MIN_MASKED_OUTPUT_LENGTH)
    .map(([, value]) => value)
}

/** `text` with every occurrence of the secrets replaced by ***, the longest secret first. */
export function maskText(text: string, secrets: readonly string[]): string {
  let masked = text
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= MIN_MASKED_OUTPUT_LENGTH && masked.includes(secret))
      masked = masked.replaceAll(secret, MASK)
  }
  return masked
}

/** A JSON value with the secrets masked in every string value it holds. */
export function maskJson<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value
  return JSON.parse(JSON.stringify(value), (_, item: unknown) =>
    typeof item === 'string' ? maskText(item, secrets) : item,
  ) as T
}
