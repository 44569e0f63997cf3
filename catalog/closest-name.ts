// "Did you mean": the known name nearest to a mistyped one, by edit distance, when it is near
// enough to be the name that was meant (a letter or two off), else null.

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

export function closestName(name: string, known: readonly string[]): string | null {
  // Two edits at most, and fewer than a third of the name: `nope` is not a typo of `note`d names.
  const limit = Math.min(2, Math.floor(name.length / 3))
  let best: { name: string; distance: number } | null = null
  for (const candidate of known) {
    if (candidate === name) continue
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase())
    if (distance <= limit && (best === null || distance < best.distance)) best = { name: candidate, distance }
  }
  return best?.name ?? null
}
