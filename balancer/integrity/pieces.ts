import { createHash, type Hash } from 'node:crypto';
import { PIECE_SIZE } from '../publication/types.js';

// Hashes a body as it streams by: the whole body's sha256 and, for bodies larger than one piece,
// the sha256 of every PIECE_SIZE piece (the list a large download is verified against).

export class PieceHasher {
  private whole: Hash = createHash('sha256');
  private piece: Hash = createHash('sha256');
  private inPiece = 0;
  private digests: Buffer[] = [];
  size = 0;

  update(chunk: Buffer): void {
    this.whole.update(chunk);
    this.size += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(PIECE_SIZE - this.inPiece, chunk.length - at);
      this.piece.update(at === 0 && take === chunk.length ? chunk : chunk.subarray(at, at + take));
      this.inPiece += take;
      at += take;
      if (this.inPiece === PIECE_SIZE) this.closePiece();
    }
  }

  private closePiece(): void {
    this.digests.push(this.piece.digest());
    this.piece = createHash('sha256');
    this.inPiece = 0;
  }

  /** Whole-body sha256 (hex) and the piece list (null when the body fits in one piece). */
  finish(): { sha256: string; pieces: Buffer | null } {
    if (this.inPiece > 0) this.closePiece();
    const sha256 = this.whole.digest('hex');
    return { sha256, pieces: this.digests.length > 1 ? Buffer.concat(this.digests) : null };
  }
}

/** The expected digest of piece `i` of a list. */
export function pieceDigest(pieces: Buffer, i: number): Buffer {
  return pieces.subarray(i * 32, i * 32 + 32);
}

export function pieceCount(size: number): number {
  return Math.ceil(size / PIECE_SIZE);
}
