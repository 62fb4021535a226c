// Import boundaries between programs (balancer, node, auditor, dashboards, common), said once here so a wrong import fails `npm run lint`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// The balancer mounts the dashboard (it is served by the control plane); nothing else crosses.
const programs = ['balancer', 'auditor', 'node', 'dashboards'];
const others = (self) => programs.filter((p) => p !== self);

/** Each outside library is imported by one adapter folder only. */
const adapters = [
  { name: 'http-proxy', home: 'balancer/proxy/**' },
  { name: 'geoip-lite', home: 'balancer/geo/**' },
  { name: '@rapideditor/country-coder', home: 'balancer/geo/**' },
  { name: 'puppeteer', home: 'auditor/browser/**' },
  { name: 'nodemailer', home: 'balancer/mail/**' },
  { name: 'acme-client', home: 'balancer/acme/**' },
  { name: '@peculiar/x509', home: 'common/tls/**' },
];

function restricted(files, { forbidPrograms = [], forbidCommonDb = false, allowAdapters = [] }) {
  const patterns = [];
  for (const p of forbidPrograms) {
    patterns.push({ group: [`**/${p}/*`, `**/${p}/**`], message: `programs talk through PostgreSQL or HTTP: do not import ${p}/ here` });
  }
  if (forbidCommonDb) patterns.push({ group: ['**/common/db/*', '**/common/db/**'], message: 'node/ gets no database code' });
  const paths = adapters
    .filter((a) => !allowAdapters.includes(a.name))
    .map((a) => ({ name: a.name, message: `only ${a.home} may import ${a.name}` }));
  return { files, rules: { 'no-restricted-imports': ['error', { paths, patterns }] } };
}

export default tseslint.config(
  { ignores: ['node_modules/**', '.verity/**', 'coverage/**', 'test/lint-fixtures/**', 'dashboards/assets/vendor/**', 'test/conformance/cache-tests/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, parserOptions: { projectService: { allowDefaultProject: ['*.js', '*.cjs', 'bin/verity'] } } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['**/*.js', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  restricted(['common/**/*.ts'], { forbidPrograms: programs }),
  restricted(['balancer/**/*.ts'], { forbidPrograms: ['auditor', 'node'] }),
  restricted(['balancer/proxy/**/*.ts'], { forbidPrograms: ['auditor', 'node'], allowAdapters: ['http-proxy'] }),
  restricted(['balancer/geo/**/*.ts'], { forbidPrograms: ['auditor', 'node'], allowAdapters: ['geoip-lite', '@rapideditor/country-coder'] }),
  restricted(['balancer/mail/**/*.ts'], { forbidPrograms: ['auditor', 'node'], allowAdapters: ['nodemailer'] }),
  restricted(['balancer/acme/**/*.ts'], { forbidPrograms: ['auditor', 'node'], allowAdapters: ['acme-client'] }),
  restricted(['common/tls/**/*.ts'], { forbidPrograms: programs, allowAdapters: ['@peculiar/x509'] }),
  restricted(['auditor/**/*.ts'], { forbidPrograms: others('auditor') }),
  restricted(['auditor/browser/**/*.ts'], { forbidPrograms: others('auditor'), allowAdapters: ['puppeteer'] }),
  restricted(['node/**/*.ts'], { forbidPrograms: others('node'), forbidCommonDb: true }),
  restricted(['dashboards/**/*.ts'], { forbidPrograms: ['auditor', 'node'] }),
);
