import { z } from 'zod';
import { defaultTrustPolicy, type TrustPolicy } from '../../domain/trust.js';
import type { Queryable } from '../pool.js';
import { getSetting } from './settings.js';

// The trust thresholds and weights, configurable in one place for every program: the settings
// row `trust_policy` holds a JSON object of overrides of defaultTrustPolicy (unknown keys and
// bad values are refused, never half-applied). Every writer of trust events should use it.

export const TRUST_POLICY_SETTING = 'trust_policy';

const positive = z.number().positive();
const share = z.number().min(0).max(1);
const overridesSchema = z.object({
  prior: z.object({ alpha: positive, beta: positive }).strict(),
  halfLifeMs: positive,
  tamperWeight: z.object({ low: positive, medium: positive, high: positive, critical: positive }).strict(),
  unconfirmedWeight: positive,
  integrityMismatchWeight: positive,
  headerStrikeWeight: positive,
  truncationAvailabilityWeight: positive,
  shadowMismatchWeight: positive,
  unreachableWeight: positive,
  healthOkWeight: positive,
  healthFailWeight: positive,
  promoteIntegrity: share,
  promoteCleanAudits: z.number().int().nonnegative(),
  quarantineIntegrity: share,
  quarantineFailureMass: positive,
  maxSuccessMass: positive,
  availabilityMaxMass: positive,
}).partial().strict();

/**
 * Keys of earlier versions that no longer mean anything: accepted and ignored, so a stored
 * override written for them does not invalidate the whole policy. (A truncation now weighs on
 * availability only, whatever the setting said.)
 */
const retiredKeys = ['truncationIntegrityWeight'];

/** Defaults with the overrides applied; throws a readable message on a bad override. */
export function trustPolicyFrom(overrides: unknown): TrustPolicy {
  const given = typeof overrides === 'object' && overrides !== null && !Array.isArray(overrides)
    ? Object.fromEntries(Object.entries(overrides).filter(([k]) => !retiredKeys.includes(k)))
    : (overrides ?? {});
  const parsed = overridesSchema.safeParse(given);
  if (!parsed.success) throw new Error(`invalid ${TRUST_POLICY_SETTING}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return { ...defaultTrustPolicy, ...parsed.data };
}

/** The policy in force: the defaults, overridden by the `trust_policy` setting when present. */
export async function loadTrustPolicy(db: Queryable): Promise<TrustPolicy> {
  const raw = await getSetting(db, TRUST_POLICY_SETTING);
  return trustPolicyFrom(raw === null ? {} : (JSON.parse(raw) as unknown));
}
