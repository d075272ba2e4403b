// ESLint flat config: typescript-eslint recommended rules plus the import boundary of
// CONVENTIONS.md rule 1 (a stage imports domain/lib/observe/config types, never another stage;
// only src/pipeline and src/cli wire stages together).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const stages = ['sources', 'parse', 'enrich', 'detect', 'incidents', 'notify', 'http', 'db'];

/** One override per stage: importing any other stage's folder is an error. */
const boundaries = stages.map((stage) => ({
  files: [`src/${stage}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: stages
          .filter((other) => other !== stage)
          .map((other) => ({
            group: [`**/${other}/*`, `**/${other}`],
            message: `src/${stage} must not import src/${other}: stages meet only in src/pipeline (CONVENTIONS.md rule 1).`,
          })),
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/out/**', 'test-artifacts/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', performance: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly', setImmediate: 'readonly', structuredClone: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  ...boundaries,
);
