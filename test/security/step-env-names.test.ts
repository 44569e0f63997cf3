// Which names a step's env may set: the rule both the API and the runtime apply.

import { describe, expect, it } from 'vitest'
import {
  FORBIDDEN_ENV_NAMES,
  FORBIDDEN_ENV_PREFIXES,
  forbiddenEnvName,
} from '../../security/step-env-names.js'

describe('forbiddenEnvName', () => {
  it('allows ordinary POSIX names, TMPDIR, HOME and locale variables', () => {
    for (const name of [
      'SHARD',
      'shard_2',
      '_X',
      'TMPDIR',
      'HOME',
      'LANG',
      'LC_ALL',
      'TZ',
      'A'.repeat(255),
    ]) {
      expect(forbiddenEnvName(name), name).toBeNull()
    }
  })

  it('refuses names that are not shell identifiers, or longer than 255 characters', () => {
    for (const name of ['', '1A', 'A-B', 'A=B', 'A B', 'BASH_FUNC_f%%', 'É', 'A\0', 'A'.repeat(256)]) {
      expect(forbiddenEnvName(name), name).not.toBeNull()
    }
  })

  it('refuses what changes how bash, the loader or glibc start a script, with a reason', () => {
    const names = [
      'BASH_ENV',
      'ENV',
      'SHELLOPTS',
      'BASHOPTS',
      'PS4',
      'PROMPT_COMMAND',
      'IFS',
      'CDPATH',
      'GLOBIGNORE',
      'PATH',
      'BASH_XTRACEFD',
      'BASH_LOADABLES_PATH',
      'BASH_COMPAT',
      'EXECIGNORE',
      'INPUTRC',
      'GLIBC_TUNABLES',
      'GCONV_PATH',
      'LOCPATH',
      'NLSPATH',
      'HOSTALIASES',
      'RES_OPTIONS',
      'LOCALDOMAIN',
      'BASH_FUNC_curl',
      'BASH_FUNC_',
      'LD_PRELOAD',
      'LD_LIBRARY_PATH',
      'LD_AUDIT',
      'MALLOC_CHECK_',
      'MAXQ_RUN_ID',
      'MAXQ_TOKEN',
      'http_proxy',
      'HTTPS_PROXY',
    ]
    for (const name of names) expect(forbiddenEnvName(name), name).toMatch(/\w{5,}/)
  })

  it('gives every listed name and prefix a reason', () => {
    for (const [name, reason] of FORBIDDEN_ENV_NAMES) expect(forbiddenEnvName(name)).toBe(reason)
    for (const [prefix, reason] of FORBIDDEN_ENV_PREFIXES) expect(forbiddenEnvName(`${prefix}X`)).toBe(reason)
  })
})
