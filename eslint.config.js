import js from '@eslint/js'
import tseslint from 'typescript-eslint'

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
  {
    // runtime/ knows only processes: it must stay free of HTTP handlers and database code.
    files: ['runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/handlers/**', '**/db/**', '**/scheduler/**'],
              message: 'runtime/ knows only processes',
            },
          ],
        },
      ],
    },
  },
  {
    // security/ holds pure rules (tokens, secret names, env names) that every layer may use.
    files: ['security/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/handlers/**', '**/db/**', '**/scheduler/**', '**/runtime/**', '**/cli/**'],
              message: 'security/ depends on nothing of MaxQ',
            },
          ],
        },
      ],
    },
  },
)
