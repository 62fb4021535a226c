import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';

// A site manifest: for every file of a deploy, the digest of its bytes, its size, the digest of
// each 1 MiB piece (large files are verified piece by piece), and its content type as a hint.
// The balancer still takes the response headers from the origin; the manifest vouches for bytes.

export const MANIFEST_PIECE_SIZE = 1024 * 1024;

export interface ManifestEntry {
  sha256: string;
  size: number;
  /** sha256 of each piece, concatenated (null for files of one piece or less). */
  pieces: Buffer | null;
  contentType: string | null;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.htm': 'text/html', '.css': 'text/css', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp',
  '.woff2': 'font/woff2', '.txt': 'text/plain', '.xml': 'application/xml', '.wasm': 'application/wasm',
};

export async function hashFile(path: string): Promise<Omit<ManifestEntry, 'contentType'>> {
  const whole = createHash('sha256');
  const digests: Buffer[] = [];
  let piece = createHash('sha256');
  let inPiece = 0;
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    whole.update(chunk);
    size += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(MANIFEST_PIECE_SIZE - inPiece, chunk.length - at);
      piece.update(chunk.subarray(at, at + take));
      inPiece += take;
      at += take;
      if (inPiece === MANIFEST_PIECE_SIZE) {
        digests.push(piece.digest());
        piece = createHash('sha256');
        inPiece = 0;
      }
    }
  }
  if (inPiece > 0) digests.push(piece.digest());
  return { sha256: whole.digest('hex'), size, pieces: digests.length > 1 ? Buffer.concat(digests) : null };
}

async function* walk(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}

/**
 * Path → entry for every file under `dir` (dot files skipped). `index.html` is also listed as
 * its directory (`/docs/` and `/docs/index.html`), as static servers answer both.
 */
export async function buildManifest(dir: string, onFile?: (path: string, done: number) => void): Promise<Map<string, ManifestEntry>> {
  if (!(await stat(dir)).isDirectory()) throw new Error(`${dir} is not a directory`);
  const out = new Map<string, ManifestEntry>();
  let done = 0;
  for await (const file of walk(dir)) {
    const urlPath = `/${relative(dir, file).split(sep).map(encodeURIComponent).join('/')}`;
    const entry = { ...(await hashFile(file)), contentType: TYPES[extname(file).toLowerCase()] ?? null };
    out.set(urlPath, entry);
    if (urlPath.endsWith('/index.html')) out.set(urlPath.slice(0, -'index.html'.length), entry);
    onFile?.(urlPath, ++done);
  }
  return out;
}

/** The JSON form (CLI output, admin API body): `{files: {path: {sha256, size, pieces?, contentType?}}}`. */
export function manifestToJson(m: Map<string, ManifestEntry>): { files: Record<string, { sha256: string; size: number; pieces?: string; contentType?: string }> } {
  const files: Record<string, { sha256: string; size: number; pieces?: string; contentType?: string }> = {};
  for (const [path, e] of m) files[path] = { sha256: e.sha256, size: e.size, ...(e.pieces ? { pieces: e.pieces.toString('base64') } : {}), ...(e.contentType ? { contentType: e.contentType } : {}) };
  return { files };
}

/** Parses the JSON form, refusing anything malformed with one message. */
export function manifestFromJson(json: unknown): Map<string, ManifestEntry> {
  const files = json && typeof json === 'object' && 'files' in json ? (json as { files: unknown }).files : null;
  if (!files || typeof files !== 'object') throw new Error('a manifest is {"files": {"/path": {"sha256": "…", "size": N}}}');
  const out = new Map<string, ManifestEntry>();
  for (const [path, raw] of Object.entries(files as Record<string, unknown>)) {
    const e = raw as { sha256?: unknown; size?: unknown; pieces?: unknown; contentType?: unknown };
    if (!path.startsWith('/') || typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256) || typeof e.size !== 'number' || !Number.isSafeInteger(e.size) || e.size < 0) {
      throw new Error(`manifest entry ${path.slice(0, 200)}: needs a path starting with /, a hex sha256 and a size`);
    }
    const pieces = typeof e.pieces === 'string' ? Buffer.from(e.pieces, 'base64') : null;
    if (pieces && pieces.length !== Math.ceil(e.size / MANIFEST_PIECE_SIZE) * 32) throw new Error(`manifest entry ${path.slice(0, 200)}: wrong number of piece digests`);
    out.set(path, { sha256: e.sha256, size: e.size, pieces, contentType: typeof e.contentType === 'string' ? e.contentType : null });
  }
  return out;
}
