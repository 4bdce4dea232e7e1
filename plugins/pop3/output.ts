// Answers gathered for one write (session.ts): small pieces are copied into one buffer as
// they come, so a flush writes that buffer as it is (no Buffer.concat), and a RETR can
// read its blob straight into it (BlobStore.readInto: no buffer per message). A buffer
// handed to the socket is written again only when the socket said it kept no reference
// (Connection.writeReusable: recycle()); else the next flush starts a new one. A fresh
// 96 KiB buffer per flush cost ~5 % of a RETR in page faults and madvise.

/** The gathering buffer: the flush threshold (64 KiB) plus a message read in place. */
const ARENA = 96 * 1024;
/** Pieces this large are written as they are, not copied (a large blob, a listing). */
const COPY_MAX = 32 * 1024;

export class OutBuffer {
  private pieces: Buffer[] = [];
  private arena: Buffer | null = null;
  /** The arena of the last take(), and one free to fill again (recycle()). */
  private taken: Buffer | null = null;
  private spare: Buffer | null = null;
  /** The arena's bytes [start, used) are gathered and not yet in `pieces`. */
  private start = 0;
  private used = 0;
  /** Octets gathered since the last take(). */
  bytes = 0;

  /** Room for `n` bytes at the arena's end: returns the arena and the offset to write at,
   *  for commit(); null when `n` is more than one arena holds. */
  reserve(n: number): { buf: Buffer; offset: number } | null {
    if (n > ARENA) return null;
    if (!this.arena || this.used + n > this.arena.length) {
      this.seal();
      this.arena = this.spare ?? Buffer.allocUnsafe(ARENA);
      this.spare = null;
      this.start = this.used = 0;
    }
    return { buf: this.arena, offset: this.used };
  }

  /** Whether reserve(n) can succeed: `n` fits in one buffer. */
  fits(n: number): boolean {
    return n <= ARENA;
  }

  /** `n` bytes were written at the offset reserve() gave. */
  commit(n: number): void {
    this.used += n;
    this.bytes += n;
  }

  /** A line of text (an ASCII status line; UTF-8 otherwise) and its CRLF. */
  line(text: string): void {
    const at = this.reserve(text.length * 3 + 2);
    if (!at) return this.push(Buffer.from(`${text}\r\n`));
    let n = at.buf.write(text, at.offset);
    at.buf[at.offset + n++] = 0x0d;
    at.buf[at.offset + n++] = 0x0a;
    this.commit(n);
  }

  /** Bytes to send: copied when small, else kept as they are. */
  push(b: Buffer): void {
    if (b.length === 0) return;
    const at = b.length <= COPY_MAX ? this.reserve(b.length) : null;
    if (at) {
      b.copy(at.buf, at.offset);
      return this.commit(b.length);
    }
    this.seal();
    this.pieces.push(b);
    this.bytes += b.length;
  }

  /** Everything gathered, in order, to be written; the next answer starts a new buffer. */
  take(): Buffer[] {
    this.seal();
    const out = this.pieces;
    this.pieces = [];
    this.taken = this.arena;
    this.arena = null;
    this.start = this.used = 0;
    this.bytes = 0;
    return out;
  }

  /** Every piece of the last take() was written and let go of by the socket: its buffer
   *  is filled again by the next answers. */
  recycle(): void {
    if (this.taken && !this.arena) this.spare = this.taken;
    this.taken = null;
  }

  /** Drops what is gathered (the connection closed). */
  clear(): void {
    this.take();
    this.taken = this.spare = null;
  }

  private seal(): void {
    if (this.arena && this.used > this.start) this.pieces.push(this.arena.subarray(this.start, this.used));
    this.start = this.used;
  }
}
