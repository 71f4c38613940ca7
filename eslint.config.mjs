// ESLint (flat config) with typescript-eslint: `npm run lint` (part of `npm test`) fails on errors.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'src/**/*.generated.js', 'prebuilds/**', 'node_modules/**', '.data/**', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // unused code is dead code; a leading underscore marks an intentionally unused parameter
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // test helpers and native boundaries use require() for child-process and addon loading
      '@typescript-eslint/no-require-imports': 'off',
      'no-duplicate-imports': 'error',
      eqeqeq: ['error', 'smart'],
      'prefer-const': 'error',
    },
  },
);
