// `maxq completion bash|zsh`: a completion script for the subcommands and their options. Run ids
// are completed from `maxq runs --json` when jq is there.

export function completionScript(shell: string, commands: Record<string, string[]>): string {
  const names = Object.keys(commands).sort().join(' ')
  const cases = Object.entries(commands)
    .map(([name, options]) => `    ${name}) opts="${[...options, '--help'].join(' ')}" ;;`)
    .join('\n')
  const bash = `# maxq bash completion: eval "$(maxq completion bash)" (or save it under bash-completion's completions)
_maxq() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd=\${COMP_WORDS[1]} opts=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${names} --help --version" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [[ " show logs watch abort retry pause resume " == *" $cmd "* ]] && command -v jq >/dev/null; then
    COMPREPLY=($(compgen -W "$(maxq runs --json --limit 20 2>/dev/null | jq -r '.runs[].id')" -- "$cur"))
  elif [[ " run trigger " == *" $cmd "* ]] && command -v jq >/dev/null; then
    COMPREPLY=($(compgen -W "$(maxq flows --json 2>/dev/null | jq -r '.flows[].name')" -- "$cur"))
  fi
}
complete -F _maxq maxq
`
  if (shell === 'bash') return bash
  if (shell === 'zsh')
    return `#compdef maxq\n# maxq zsh completion: eval "$(maxq completion zsh)"\nautoload -U +X bashcompinit && bashcompinit\n${bash}`
  throw new Error(`completion: expected bash or zsh, not ${JSON.stringify(shell)}`)
}
