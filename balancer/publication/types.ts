// What the balancer knows about one URL the origin published: the origin's own answer (status,
// headers, digest of its bytes), how sure we are that the answer is stable, and until when it is
// fresh. Nodes supply bytes; everything else a visitor gets comes from here.

/** Size of one verified piece of a large body (BitTorrent v2 and Bao use fixed pieces too). */
export const PIECE_SIZE = 1024 * 1024;

/**
 * - pending: one origin answer seen; the origin serves until a second identical one confirms it.
 * - stable: the origin gave the same bytes at least twice; nodes serve it, verified inline.
 * - dynamic: the origin's bytes differ between fetches; the site's --dynamic policy decides.
 */
export type PublicationMode = 'pending' | 'stable' | 'dynamic';

/** Response headers as visitors get them: name (lower case) → value(s). */
export type ResponseHeaders = Record<string, string | string[]>;

/** One complete origin answer for one variant of a URL. */
export interface Observation {
  status: number;
  headers: ResponseHeaders;
  /** Normalised Content-Encoding of the bytes (null: identity). */
  encoding: string | null;
  /** sha256 (hex) of the body bytes exactly as the origin sent them. */
  sha256: string;
  size: number;
  /** sha256 of each PIECE_SIZE piece, concatenated (identity bodies larger than one piece only). */
  pieces: Buffer | null;
  etag: string | null;
  lastModified: string | null;
  /** Freshness lifetime the origin gave (ms) and the age the answer already had on arrival (ms). */
  lifetimeMs: number;
  initialAgeMs: number;
  /** When the answer arrived (ms, balancer clock). */
  receivedAt: number;
}

export interface Publication {
  siteId: string;
  url: string;
  /** Values of the request headers the origin varies on, normalised (see variantKey). */
  variant: string;
  mode: PublicationMode;
  current: Observation;
  /** Identical answers in a row behind `current`. */
  repeats: number;
  /** Digests of earlier versions the origin really served (a stale copy of one is no tampering). */
  history: string[];
  /** Response headers whose values the origin changed between answers with the same bytes. */
  unstableHeaders: string[];
  source: 'origin' | 'manifest';
}

/** Per URL: the request headers its variants differ in, and the variants. */
export interface Family {
  varyNames: string[];
  variants: Map<string, Publication>;
  lastUsed: number;
}

export function freshUntil(o: Observation): number {
  return o.receivedAt + o.lifetimeMs - o.initialAgeMs;
}

export function isFresh(o: Observation, now: number): boolean {
  return now < freshUntil(o);
}

/** Age to send (seconds): the age on arrival plus the time we held it. */
export function ageSeconds(o: Observation, now: number): number {
  return Math.max(0, Math.floor((o.initialAgeMs + now - o.receivedAt) / 1000));
}

/** The piece list of an answer (a body of one piece has its whole digest as its only piece). */
export function piecesOf(o: Observation): Buffer {
  return o.pieces ?? Buffer.from(o.sha256, 'hex');
}
