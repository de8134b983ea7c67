// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import layering from './eslint-rules/layering.js';

/** Packages that talk to the outside world: only lib/adapters may import them. */
const sdkPatterns = [
  { group: ['@aws-sdk/*', '@smithy/*'], message: 'Only lib/adapters may import the AWS SDK.' },
  { group: ['@kubernetes/client-node'], message: 'Only lib/adapters may import the Kubernetes client.' },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'coverage/', 'dist/', '.serverless/', '.esbuild/', 'audit-store/', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        structuredClone: 'readonly',
        fetch: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
      },
    },
    plugins: { local: layering },
    rules: {
      'local/layering': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['lib/**/*.ts', 'sim/**/*.ts', 'functions/**/*.ts', 'cli/**/*.ts'],
    ignores: ['lib/adapters/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: sdkPatterns }] },
  },
  {
    // The functional core is pure: no I/O, no environment, no clock, nothing outside lib/core.
    files: ['lib/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...sdkPatterns,
            { regex: '^node:(?!crypto$)', message: 'lib/core does no I/O: pass data in (node:crypto is allowed for certificate parsing).' },
            { regex: '^(fs|path|os|child_process|http|https|net)$', message: 'lib/core does no I/O.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'lib/core reads no environment: pass configuration in.' },
        { name: 'fetch', message: 'lib/core does no I/O.' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'lib/core has no clock: take `now` as a parameter.' },
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'lib/core has no clock: take `now` as a parameter.',
        },
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: 'lib/core is deterministic: take randomness as a parameter.',
        },
      ],
    },
  },
);
