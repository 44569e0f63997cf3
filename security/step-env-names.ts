// Which names a step's `env` may set. A step's env reaches bash, the dynamic loader and glibc before
// the first line of step.sh runs, so a request that could set BASH_ENV, LD_PRELOAD or PATH could
// make any script run code of the requester's choosing. The API refuses these names with a 400
// (handlers/steps/stage-definition.ts) and the runtime drops them again when it builds a script's
// environment, so a row written before this rule existed cannot bring one back.
//
// Pure functions and constants only: handlers, the runtime and the scheduler all import this file,
// so it imports nothing. The list and its reasons are documented in docs/security.md.

/** POSIX shell variable names; anything else cannot be read as `$NAME` anyway. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/

export const MAX_ENV_NAME_LENGTH = 255

/** Names a step may not set, each with why. */
export const FORBIDDEN_ENV_NAMES: ReadonlyMap<string, string> = new Map([
  // bash reads these when it starts, before the script's first line.
  ['BASH_ENV', 'bash sources the file it names before the script (and expands $(…) in the value)'],
  ['ENV', 'sh and bash in POSIX mode source the file it names'],
  ['SHELLOPTS', 'turns on shell options (xtrace, noexec, …) in every bash started'],
  ['BASHOPTS', 'turns on shopt options in every bash started'],
  ['POSIXLY_CORRECT', 'switches bash to POSIX mode, which changes how the script is run'],
  ['BASH_COMPAT', 'changes which bash version the script is run as'],
  ['BASH_XTRACEFD', 'redirects the trace output of set -x to a file descriptor of its choice'],
  ['BASH_LOADABLES_PATH', 'decides where `enable -f` loads builtins (shared objects) from'],
  ['PS4', 'is expanded, $(…) included, before every traced command'],
  ['PROMPT_COMMAND', 'is run as a command by interactive bash'],
  ['IFS', 'changes how bash splits words'],
  ['CDPATH', 'changes where `cd` goes'],
  ['GLOBIGNORE', 'changes what globs match'],
  ['EXECIGNORE', 'changes which commands bash finds'],
  ['INPUTRC', 'points readline at a file of its choice'],
  // Which programs run.
  ['PATH', 'decides which programs run, the interpreter of `#!/usr/bin/env bash` first'],
  // glibc and the loader.
  ['GLIBC_TUNABLES', 'changes how glibc and the loader behave in every process'],
  ['GCONV_PATH', 'makes glibc load character-conversion modules (shared objects) from a directory'],
  ['LOCPATH', 'makes glibc load locale data from a directory'],
  ['NLSPATH', 'makes glibc read message catalogs from a path'],
  ['HOSTALIASES', 'changes how host names resolve (including the API host)'],
  ['RES_OPTIONS', 'changes how host names resolve (including the API host)'],
  ['LOCALDOMAIN', 'changes how host names resolve (including the API host)'],
  // Where the helper library's requests (which carry the run's token) go.
  ['http_proxy', "sends the script's HTTP requests, and the run's token, through a proxy"],
  ['HTTP_PROXY', "sends the script's HTTP requests, and the run's token, through a proxy"],
  ['https_proxy', "sends the script's HTTPS requests through a proxy"],
  ['HTTPS_PROXY', "sends the script's HTTPS requests through a proxy"],
  ['all_proxy', "sends the script's requests through a proxy"],
  ['ALL_PROXY', "sends the script's requests through a proxy"],
  ['CURL_HOME', 'makes curl read its options from a .curlrc of its choice'],
])

/** Prefixes of names a step may not set, each with why. */
export const FORBIDDEN_ENV_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ['MAXQ_', 'MAXQ_* variables are set by MaxQ itself (run id, API, token)'],
  ['BASH_FUNC_', 'bash imports it as a function definition'],
  ['LD_', 'the dynamic loader reads LD_* (LD_PRELOAD loads code into every process)'],
  ['MALLOC_', "changes glibc's allocator in every process"],
]

/**
 * Why a step's env may not set `name`, or null when it may. Covers the name's shape too, so the
 * runtime can apply this one function to whatever a row holds.
 */
export function forbiddenEnvName(name: string): string | null {
  if (name.length > MAX_ENV_NAME_LENGTH) return `names are at most ${MAX_ENV_NAME_LENGTH} characters`
  if (!ENV_NAME_PATTERN.test(name)) return `names must match ${ENV_NAME_PATTERN.source}`
  const exact = FORBIDDEN_ENV_NAMES.get(name)
  if (exact !== undefined) return exact
  for (const [prefix, reason] of FORBIDDEN_ENV_PREFIXES) {
    if (name.startsWith(prefix)) return reason
  }
  return null
}
