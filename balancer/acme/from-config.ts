import { readFile } from 'node:fs/promises';
import type { Registry } from 'prom-client';
import type { ChallengeKind } from '../../common/db/queries/acme.js';
import type { Pool } from '../../common/db/pool.js';
import type { Logger } from '../../common/log.js';
import { createSecretBox } from '../../common/tls/secret-box.js';
import { AcmeManager } from './manager.js';

// The balancer's automatic certificates as its configuration asks: none without
// --acme-directory (balancer/main.ts has already refused --acme-directory without --tls-secret).

export interface AcmeConfig {
  acmeDirectory?: string;
  acmeEmail?: string;
  acmeChallenges: readonly ChallengeKind[];
  acmeCa?: string;
  tlsSecret?: string;
}

export async function acmeFromConfig(config: AcmeConfig, o: { pool: Pool; log: Logger; metrics: Registry; now: () => number; intervalMs?: number; propagationMs?: number }): Promise<AcmeManager | null> {
  if (!config.acmeDirectory || !config.tlsSecret) return null;
  return new AcmeManager({
    ...o, box: createSecretBox(config.tlsSecret), directoryUrl: config.acmeDirectory, email: config.acmeEmail ?? null,
    challenges: config.acmeChallenges, caPem: config.acmeCa ? await readFile(config.acmeCa, 'utf8') : null,
  });
}
