// Flow and step names become directory names under FLOWS_ROOT, so only plain names pass.

/** Longest flow or step name, in characters. */
export const MAX_NAME_LENGTH = 128

const SAFE_NAME = /^[a-zA-Z0-9_-]+$/

/** True for a name made of letters, digits, `_` and `-` (at most 128): it cannot leave its directory. */
export function isSafeName(name: string): boolean {
  // The pattern already excludes `.` and `..`; the explicit check documents the intent.
  if (name === '.' || name === '..') return false
  return name.length <= MAX_NAME_LENGTH && SAFE_NAME.test(name)
}
