import type { EvidenceInput, FindingInput } from '../../common/db/queries/audits.js';
import type { AuditRun } from '../checks/run-audit.js';

// What an audit leaves behind. Kind names are read by the dashboard: keep them exactly.
// Screenshots are kept when the audit found something (evidence), not for every clean pass.

export const evidenceKinds = ['origin_screenshot', 'node_screenshot', 'diff_image', 'fragments', 'headers_diff', 'blocked_requests'] as const;

const json = (kind: string, value: unknown): EvidenceInput => ({ kind, contentType: 'application/json', body: Buffer.from(JSON.stringify(value)) });
const png = (kind: string, body: Buffer): EvidenceInput => ({ kind, contentType: 'image/png', body });

export function buildEvidence(run: AuditRun): EvidenceInput[] {
  const out: EvidenceInput[] = [];
  const interesting = run.verdict === 'tampered';
  if (run.findings.length) out.push(json('fragments', run.findings.slice(0, 50).map((f) => ({ kind: f.kind, origin: f.origin ?? null, node: f.node ?? null }))));
  if (run.headersDiff.length) out.push(json('headers_diff', run.headersDiff));
  if (run.blocked.length) out.push(json('blocked_requests', run.blocked.slice(0, 200)));
  if (interesting && run.screenshots) {
    out.push(png('origin_screenshot', run.screenshots.origin), png('node_screenshot', run.screenshots.node));
    if (run.screenshots.diff) out.push(png('diff_image', run.screenshots.diff));
  }
  return out;
}

export function buildFindings(run: AuditRun): FindingInput[] {
  return run.findings.map((f) => ({ kind: f.kind, severity: f.severity, summary: f.summary, detail: { origin: f.origin ?? null, node: f.node ?? null } }));
}

export function buildSummary(run: AuditRun, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    ...extra,
    reason: run.reason,
    rendered: run.rendered,
    renderError: run.renderError,
    diffRatio: run.diffRatio,
    findings: run.findings.length,
    subresourcesChecked: run.subresourcesChecked,
    originRenders: run.originRenders,
    blocked: run.blocked.length,
  };
}
