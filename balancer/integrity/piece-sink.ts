import { createHash, type Hash } from 'node:crypto';
import { PIECE_SIZE } from '../publication/types.js';
import { pieceDigest } from './pieces.js';

// Verifies a large body piece by piece as it streams in and releases each piece only once it
// matches the origin's digest for it; of each verified piece, only the bytes the visitor asked
// for go out. At most one piece is held at a time (no copies: the incoming chunks are kept).

export type FeedResult = 'ok' | 'mismatch' | 'too-long';

export interface PieceWriter {
  /** Verified bytes in the visitor's range; returns false when the visitor is not keeping up. */
  write(bytes: Buffer): boolean;
}

export class PieceSink {
  /** Index of the piece being received. */
  index: number;
  /** Absolute offset of the next byte expected. */
  pos: number;
  private hash: Hash = createHash('sha256');
  private held: Buffer[] = [];
  private heldLength = 0;
  /** Bytes to drop before the first piece starts (an upstream that ignored our Range). */
  skip = 0;
  backlogged = false;

  constructor(
    private readonly pieces: Buffer,
    private readonly size: number,
    /** First and last byte the visitor wants. */
    private readonly start: number,
    private readonly end: number,
    fromPiece: number,
    private readonly out: PieceWriter,
  ) {
    this.index = fromPiece;
    this.pos = fromPiece * PIECE_SIZE;
  }

  /** Offset just past the last byte the visitor needs, rounded up to a whole piece. */
  get fetchEnd(): number {
    return Math.min(this.size, (Math.floor(this.end / PIECE_SIZE) + 1) * PIECE_SIZE) - 1;
  }

  get complete(): boolean {
    return this.pos > this.fetchEnd;
  }

  private pieceLength(i: number): number {
    return Math.min(PIECE_SIZE, this.size - i * PIECE_SIZE);
  }

  feed(chunk: Buffer): FeedResult {
    let at = 0;
    if (this.skip > 0) {
      at = Math.min(this.skip, chunk.length);
      this.skip -= at;
    }
    while (at < chunk.length) {
      if (this.complete) return 'too-long';
      const need = this.pieceLength(this.index) - this.heldLength;
      const take = Math.min(need, chunk.length - at);
      const part = at === 0 && take === chunk.length ? chunk : chunk.subarray(at, at + take);
      this.hash.update(part);
      this.held.push(part);
      this.heldLength += take;
      at += take;
      if (this.heldLength === this.pieceLength(this.index) && !this.release()) return 'mismatch';
    }
    return 'ok';
  }

  private release(): boolean {
    const digest = this.hash.digest();
    if (!digest.equals(pieceDigest(this.pieces, this.index))) return false;
    let offset = this.pos;
    for (const part of this.held) {
      const from = Math.max(this.start - offset, 0);
      const to = Math.min(part.length, this.end + 1 - offset);
      if (to > from && !this.out.write(from === 0 && to === part.length ? part : part.subarray(from, to))) this.backlogged = true;
      offset += part.length;
    }
    this.pos += this.heldLength;
    this.index++;
    this.held = [];
    this.heldLength = 0;
    this.hash = createHash('sha256');
    return true;
  }
}
