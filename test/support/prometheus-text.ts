// Reads Prometheus' text exposition format (what GET /metrics answers) strictly enough to catch a
// malformed line: every sample is `name{label="value",…} number`, and every metric name has its
// # HELP and # TYPE lines before its samples.

import { expect } from 'vitest'

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/g
const COMMENT = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/

/** The samples of an exposition; fails the test on a line that is not one. */
export function parsePrometheusText(text: string): Sample[] {
  const typed = new Map<string, string>()
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    const comment = COMMENT.exec(line)
    if (comment) {
      if (comment[1] === 'TYPE') typed.set(comment[2]!, comment[3]!)
      continue
    }
    const match = SAMPLE.exec(line)
    expect(match, `not a sample line: ${line}`).not.toBeNull()
    const [, name = '', labelText = '', valueText = ''] = match!
    const labels: Record<string, string> = {}
    let consumed = 0
    for (const label of labelText.matchAll(LABEL)) {
      labels[label[1]!] = label[2]!
      consumed += label[0].length
    }
    expect(consumed, `labels of: ${line}`).toBe(labelText.length)
    const value = Number(valueText.replace(/^\+Inf$/, 'Infinity'))
    expect(Number.isNaN(value), `value of: ${line}`).toBe(false)
    const family = [...typed.keys()].find((typedName) =>
      [typedName, `${typedName}_bucket`, `${typedName}_sum`, `${typedName}_count`].includes(name),
    )
    expect(family, `# TYPE before ${name}`).toBeDefined()
    samples.push({ name, labels, value })
  }
  return samples
}

/** The sum of the samples named `name` whose labels include `labels` (0 when none). */
export function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter(
      (sample) =>
        sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    )
    .reduce((sum, sample) => sum + sample.value, 0)
}
