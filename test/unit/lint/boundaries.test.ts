import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

// The import boundaries between programs are enforced by eslint.config.js; these fixtures prove a
// forbidden import really fails lint (and an allowed one does not).
// Fixtures are not files on disk, so type-aware rules (which need the TS project) are off here.
const eslint = new ESLint({ cwd: process.cwd(), overrideConfig: [tseslint.configs.disableTypeChecked] });

async function messagesFor(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import boundaries', () => {
  it('forbids node/ from importing database code', async () => {
    const msgs = await messagesFor('node/lint-fixture.ts', "import { createPool } from '../common/db/pool.js';\nexport const p = createPool;\n");
    expect(msgs.join()).toMatch(/node\/ gets no database code/);
  });

  it('forbids one program importing another', async () => {
    const msgs = await messagesFor('auditor/lint-fixture.ts', "import { balancerProgram } from '../balancer/config.js';\nexport const b = balancerProgram;\n");
    expect(msgs.join()).toMatch(/do not import balancer/);
  });

  it('forbids common/ from importing a program', async () => {
    const msgs = await messagesFor('common/lint-fixture.ts', "import { nodeProgram } from '../node/config.js';\nexport const n = nodeProgram;\n");
    expect(msgs.join()).toMatch(/do not import node/);
  });

  it('keeps each outside library in its adapter folder', async () => {
    expect((await messagesFor('balancer/lint-fixture.ts', "import httpProxy from 'http-proxy';\nexport const h = httpProxy;\n")).join()).toMatch(/balancer\/proxy/);
    expect((await messagesFor('auditor/checks/lint-fixture.ts', "import puppeteer from 'puppeteer';\nexport const p = puppeteer;\n")).join()).toMatch(/auditor\/browser/);
    expect(await messagesFor('balancer/proxy/lint-fixture.ts', "import httpProxy from 'http-proxy';\nexport const h = httpProxy;\n")).toEqual([]);
  });
});
