import type { OriginRenderFeatures } from './rendered.js';
import type { Finding } from './types.js';
import { registrableDomain } from './url-template.js';

// Hosts the node's page tried to reach against every origin render's. A host no origin render
// contacted is a finding; it is unambiguous (issue 14: counts in full without confirmation) only
// when many origin renders of the site never touched its domain and no origin document or
// script even names it. A domain whose hosts the origin itself rotates (ad shards) licenses its
// other hosts. Pure.

export interface HostKnowledge {
  /** Hosts the origin's renders of this page template contacted in earlier audits. */
  templateHosts: ReadonlySet<string>;
  /** Every host and domain any origin render of the site contacted, and after how many renders. */
  site: { hosts: ReadonlySet<string>; domains: ReadonlySet<string>; renders: number };
  /** Whether the origin's documents or scripts name this host (or its domain). */
  mentioned(host: string): boolean;
}

/** Renders of the site after which a never-contacted, never-named domain is unambiguous. */
export const unambiguousAfterRenders = 5;

function rotatingDomains(hosts: Iterable<string>): Set<string> {
  const byDomain = new Map<string, Set<string>>();
  for (const h of hosts) {
    const d = registrableDomain(h);
    byDomain.set(d, (byDomain.get(d) ?? new Set()).add(h));
  }
  return new Set([...byDomain].filter(([, hs]) => hs.size > 1).map(([d]) => d));
}

export function hostFindings(nodeHosts: readonly string[], origins: readonly OriginRenderFeatures[], known: HostKnowledge | null): Finding[] {
  const seen = new Set([...origins.flatMap((o) => o.hosts), ...(known?.templateHosts ?? [])]);
  const rotating = rotatingDomains(seen);
  const out: Finding[] = [];
  for (const host of nodeHosts) {
    const d = registrableDomain(host);
    // A host under a domain the origin contacts and its own code names (ad shards built in a
    // script): the origin's doing. A script the node adds is still a finding of its own.
    const named = [...seen].some((h) => registrableDomain(h) === d) && (known?.mentioned(d) ?? false);
    if (seen.has(host) || rotating.has(d) || named) continue;
    const unambiguous = known !== null && known.site.renders >= unambiguousAfterRenders && !known.site.domains.has(d) && !known.mentioned(host) && !known.mentioned(d);
    out.push({
      kind: 'new_host_contacted', severity: 'high', unambiguous,
      summary: `the page tried to reach ${host}, which the origin's page never contacts${unambiguous ? ` (no origin render of this site ever contacted ${d}, and no origin page names it)` : ''}`,
      origin: null, node: host,
    });
  }
  return out;
}
