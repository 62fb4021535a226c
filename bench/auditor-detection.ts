// `npx tsx bench/auditor-detection.ts [--no-browser] [--repeat N] [--write]`: every kind of the tamper corpus
// and every benign kind, audited through a real rogue node against the real sample origin, with
// the full checks (HTTP, document, subresources, and rendered in Chromium unless --no-browser).
// --write puts the table in docs/benchmarks.md ("Auditor detection").
import { startDirectAuditor } from '../test/support/auditor/harness.js';
import { seededRandom } from '../test/support/auditor/seeded.js';
import { startSampleOrigin } from '../test/support/origin/index.js';
import { startRogueNode } from '../test/support/rogue-node.js';
import { benignKinds, tamperKinds } from '../test/support/tamper/index.js';
import { writeDocsSection } from './docs-section.js';

const browser = !process.argv.includes('--no-browser');
const write = process.argv.includes('--write');
const repeatAt = process.argv.indexOf('--repeat');
/** Trials per tamper kind (each audits until detected, at most maxAuditsPerTamper times); benign kinds get 3 audits per trial. */
const repeat = repeatAt === -1 ? 1 : Math.max(1, Number(process.argv[repeatAt + 1]));
const benignAudits = 3 * repeat;
const maxAuditsPerTamper = 12;

const origin = await startSampleOrigin({ varyingStateLength: true });
const rogue = await startRogueNode({ originUrl: origin.url, random: seededRandom(11) });
const auditor = await startDirectAuditor({ browser, random: seededRandom(5) });
const rows: string[] = [];
const md = (s: string) => s.replace(/</g, '&lt;').replace(/\|/g, '\\|');
let missed = 0;
let falseAccusations = 0;
const started = Date.now();
try {
  for (const kind of tamperKinds) {
    let detected = 0;
    let worstAudits = 0;
    let kinds = '';
    for (let trial = 0; trial < repeat; trial++) {
      rogue.setKind(kind);
      let audits = 0;
      let run;
      do {
        run = await auditor.audit(rogue.url, origin.url, kind.samplePath);
        audits++;
      } while (run.verdict !== 'tampered' && audits < maxAuditsPerTamper);
      if (run.verdict === 'tampered') detected++;
      worstAudits = Math.max(worstAudits, audits);
      kinds = [...new Set(run.findings.filter((f) => f.severity !== 'low').map((f) => f.kind))].slice(0, 4).join(', ');
    }
    if (detected < repeat) missed++;
    const rate = `${detected}/${repeat}`;
    rows.push(`| tamper | ${kind.name} | ${md(kind.description)} | ${detected === repeat ? `**detected** ${rate} (by audit ${worstAudits})` : `detected ${rate}`} | ${kinds} |`);
    process.stderr.write(`${kind.name}: ${rate}\n`);
  }
  for (const kind of benignKinds) {
    rogue.setKind(kind);
    const verdicts: string[] = [];
    for (let i = 0; i < benignAudits; i++) verdicts.push((await auditor.audit(rogue.url, origin.url, kind.samplePath)).verdict);
    const accused = verdicts.filter((v) => v === 'tampered').length;
    falseAccusations += accused;
    const ok = verdicts.every((v) => v === 'pass');
    rows.push(`| benign | ${kind.name} | ${md(kind.description)} | ${ok ? `**passed** (${benignAudits}/${benignAudits})` : verdicts.join(', ')} | |`);
    process.stderr.write(`${kind.name}: ${verdicts.join(',')}\n`);
  }
} finally {
  await auditor.close();
  await rogue.close();
  await origin.close();
}
const seconds = Math.round((Date.now() - started) / 1000);
const section = `## Auditor detection

\`npx tsx bench/auditor-detection.ts --write\` (the same corpus as \`test/integration/auditor/static-corpus.test.ts\`, which asserts it on every run).
Each tamper kind is audited on its sample page until detected (at most ${maxAuditsPerTamper} audits; only the intermittent kind needs more than one), ${repeat} time(s) over;
each benign kind ${benignAudits} times. Checks: HTTP, document, subresource hashes${browser ? ', rendered in Chromium (DOM after scripts, hosts contacted, screenshot diff)' : ' (no browser)'}.

Result: **${tamperKinds.length - missed}/${tamperKinds.length} tamper kinds detected in every trial, ${benignKinds.length * benignAudits - falseAccusations}/${benignKinds.length * benignAudits} benign audits passed** (${seconds} s).

| | kind | what the node does | verdict | findings (medium or worse) |
| --- | --- | --- | --- | --- |
${rows.join('\n')}
`;
process.stdout.write(section);
if (write) writeDocsSection('auditor-detection', section);
