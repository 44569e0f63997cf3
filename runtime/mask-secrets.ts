// Captured output with the job's secret values replaced by ***, as CI systems mask secrets in job
// logs. Output larger than the capture limit is kept as head, marker, tail: a secret cut by that
// marker would survive as a prefix before it or a suffix after it, so those pieces are masked too.

import { MASK, MIN_MASKED_OUTPUT_LENGTH, maskText } from '../security/secret-names.js'
import { OMITTED_MARKER } from './bounded-output.js'

export function maskSecrets(text: string, secrets: readonly string[]): string {
  const values = secrets.filter((secret) => secret.length >= MIN_MASKED_OUTPUT_LENGTH)
  if (values.length === 0) return text
  // Longest first, so a secret that contains another is masked whole.
  values.sort((a, b) => b.length - a.length)
  const marker = OMITTED_MARKER.exec(text)
  if (marker === null) return maskText(text, values)
  const before = maskText(text.slice(0, marker.index), values)
  const after = maskText(text.slice(marker.index + marker[0].length), values)
  return maskCutEnd(before, values) + marker[0] + maskCutStart(after, values)
}

/** Masks a trailing piece of `text` that begins some secret (2 characters at least). */
function maskCutEnd(text: string, values: readonly string[]): string {
  for (const value of values) {
    for (let length = value.length - 1; length >= 2; length--) {
      if (text.endsWith(value.slice(0, length))) return text.slice(0, text.length - length) + MASK
    }
  }
  return text
}

/** Masks a leading piece of `text` that ends some secret (2 characters at least). */
function maskCutStart(text: string, values: readonly string[]): string {
  for (const value of values) {
    for (let length = value.length - 1; length >= 2; length--) {
      if (text.startsWith(value.slice(value.length - length))) return MASK + text.slice(length)
    }
  }
  return text
}
