// Messages for keys a strict schema does not know. A misspelt key (`depends_on`, `timeout`) would
// otherwise be dropped and the request would silently do less than asked, so it is a 400 that
// names the key and, where one is close, the key that was probably meant.

import type * as v from 'valibot'

/** Edits (insert, delete, replace one character) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const replace = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, replace)
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

const normalized = (key: string): string => key.toLowerCase().replace(/[-_\s]/g, '')

/**
 * The known key `key` was probably meant to be: an alias (`retries` → `maxRetries`), the same key
 * in another case or with separators (`depends_on`), or one a few edits away (`dependOn`).
 */
export function suggestKey(
  key: string,
  known: readonly string[],
  aliases: Readonly<Record<string, string>> = {},
): string | null {
  const alias = aliases[normalized(key)]
  if (alias !== undefined) return alias
  const same = known.find((candidate) => normalized(candidate) === normalized(key))
  if (same !== undefined) return same
  let best: string | null = null
  let bestDistance = Math.max(1, Math.floor(key.length / 3)) + 1
  for (const candidate of known) {
    const distance = editDistance(normalized(key), normalized(candidate))
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

/**
 * A valibot message for strictObject: an unknown key reads `unknown key "depends_on"; did you mean
 * "dependsOn"?`, every other issue keeps valibot's own message. `aliases` are keyed by the
 * normalized spelling (lower case, no `-`/`_`).
 */
export function unknownKeyMessage(
  known: readonly string[],
  aliases: Readonly<Record<string, string>> = {},
): (issue: v.BaseIssue<unknown>) => string {
  return (issue) => {
    if (issue.expected !== 'never' || typeof issue.input !== 'string') return issue.message
    const suggestion = suggestKey(issue.input, known, aliases)
    const hint = suggestion === null ? `; known keys: ${known.join(', ')}` : `; did you mean "${suggestion}"?`
    return `unknown key "${issue.input}"${hint}`
  }
}
