import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/**
 * Files under `folder` may import nothing from the `forbidden` top-level folders, statically or
 * with `import()` (which no-restricted-imports does not see). esquery's regular expressions cannot
 * hold a `/`, hence \u002F.
 */
function fence(folder, forbidden, message) {
  const names = forbidden.join('|')
  return {
    files: [`${folder}/**/*.ts`, `${folder}/**/*.tsx`],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: forbidden.map((name) => `**/${name}/**`), message }] },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: `ImportExpression[source.value=/(^|\\u002F)(${names})\\u002F/]`, message },
      ],
    },
  }
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', fetch: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  // Fences (docs/decisions.md, "Fences are lint rules"): dependencies point down. cli/ and wrangler-free-local/ wire
  // everything; handlers/ and scheduler/ use db/ and catalog/; scheduler/ uses runtime/. Each
  // "never" is one rule here, so an import across a fence fails `npm run lint`.
  fence(
    'handlers',
    ['runtime', 'scheduler', 'cli', 'wrangler-free-local'],
    'handlers/ use db/ and catalog/ only: a handler spawns nothing and runs no tick',
  ),
  fence(
    'scheduler',
    ['handlers', 'cli', 'wrangler-free-local'],
    'scheduler/ uses db/, catalog/ and runtime/; cli/ wires it to the API',
  ),
  fence(
    'db',
    ['handlers', 'scheduler', 'runtime', 'catalog', 'cli', 'wrangler-free-local'],
    'db/ knows only storage',
  ),
  fence(
    'runtime',
    ['handlers', 'db', 'scheduler', 'catalog', 'cli', 'wrangler-free-local'],
    'runtime/ knows only processes: it reports through the interface it is given',
  ),
  fence(
    'catalog',
    ['handlers', 'db', 'scheduler', 'runtime', 'cli', 'wrangler-free-local'],
    'catalog/ knows only the flows on disk',
  ),
  // metrics/ holds this process's prom-client counters: the worker and the handlers record into it.
  fence(
    'metrics',
    ['handlers', 'db', 'scheduler', 'runtime', 'catalog', 'security', 'cli', 'wrangler-free-local'],
    'metrics/ knows only prom-client: whoever measures something records it here',
  ),
  // security/ holds pure rules (tokens, secret names, env names) that every layer may use.
  fence(
    'security',
    ['handlers', 'db', 'scheduler', 'runtime', 'catalog', 'cli', 'wrangler-free-local'],
    'security/ depends on nothing of MaxQ',
  ),
)
