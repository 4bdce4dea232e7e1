// Bytes in, SMTP lines and DATA out, for both ends of an ODMR link (RFC 2645 runs SMTP,
// RFC 5321, in both directions over one connection). Pull-style: a session awaits the
// next line or the next message, whichever socket feeds it.

export type DataError = "too-big" | "bare-lf";

const MAX_LINE = 4096;

export class Wire {
  private buf: Buffer = Buffer.alloc(0);
  private closed = false;
  private wake: (() => void) | null = null;

  feed(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    this.notify();
  }

  end(): void {
    this.closed = true;
    this.notify();
  }

  /** Bytes not read yet (handed on when the link changes hands). */
  rest(): Buffer {
    const b = this.buf;
    this.buf = Buffer.alloc(0);
    return b;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private more(): Promise<void> {
    return new Promise((res) => (this.wake = res));
  }

  /** The next line without its CRLF; null when the peer closed; "" with too-long lines cut. */
  async line(): Promise<string | null> {
    for (;;) {
      const i = this.buf.indexOf(0x0a);
      if (i >= 0) {
        const line = this.buf.subarray(0, i > 0 && this.buf[i - 1] === 0x0d ? i - 1 : i).toString("utf8");
        this.buf = this.buf.subarray(i + 1);
        return line.length > MAX_LINE ? "" : line;
      }
      if (this.closed) return null;
      await this.more();
    }
  }

  /** One SMTP reply (RFC 5321 §4.2: "ddd-" continues, "ddd " ends); null when closed. */
  async reply(): Promise<{ code: number; text: string } | null> {
    const lines: string[] = [];
    for (;;) {
      const l = await this.line();
      if (l === null) return null;
      const m = /^(\d{3})([ -]?)(.*)$/.exec(l);
      if (!m) return { code: 0, text: l };
      lines.push(m[3]!);
      if (m[2] !== "-") return { code: Number(m[1]), text: lines.join(" ") };
    }
  }

  /** DATA up to "CRLF . CRLF" (RFC 5321 §4.1.1.4), dot-unstuffed (§4.5.2). Bare LF or CR
   *  (§2.3.8, SMTP smuggling) and data over `max` bytes are read to the end and refused. */
  async data(max: number): Promise<{ raw: Buffer } | { error: DataError } | null> {
    let from = 0;
    let tooBig = false;
    for (;;) {
      if (this.buf.length >= 3 && this.buf[0] === 0x2e && this.buf[1] === 0x0d && this.buf[2] === 0x0a) {
        this.buf = this.buf.subarray(3);
        return tooBig ? { error: "too-big" } : { raw: Buffer.alloc(0) };
      }
      const end = this.buf.indexOf("\r\n.\r\n", from);
      if (end >= 0) {
        const body = this.buf.subarray(0, end + 2);
        this.buf = this.buf.subarray(end + 5);
        if (tooBig || body.length > max) return { error: "too-big" };
        if (bareLineEnd(body)) return { error: "bare-lf" };
        return { raw: unstuff(body) };
      }
      if (this.buf.length > max + 5) {
        // Keep only the tail where a terminator may begin: an oversized message is not held.
        tooBig = true;
        this.buf = this.buf.subarray(this.buf.length - 4);
      }
      from = Math.max(0, this.buf.length - 4);
      if (this.closed) return null;
      await this.more();
    }
  }
}

function bareLineEnd(b: Buffer): boolean {
  for (let i = b.indexOf(0x0a); i >= 0; i = b.indexOf(0x0a, i + 1)) if (i === 0 || b[i - 1] !== 0x0d) return true;
  for (let i = b.indexOf(0x0d); i >= 0; i = b.indexOf(0x0d, i + 1)) if (b[i + 1] !== 0x0a) return true;
  return false;
}

/** Undo dot-stuffing: a line starting with "." lost its first dot on the wire's way. */
function unstuff(b: Buffer): Buffer {
  if (b.indexOf("\r\n.") < 0 && b[0] !== 0x2e) return b;
  const parts: Buffer[] = [];
  let from = b[0] === 0x2e ? 1 : 0;
  for (let i = b.indexOf("\r\n.", from); i >= 0; i = b.indexOf("\r\n.", i + 3)) {
    parts.push(b.subarray(from, i + 2));
    from = i + 3;
  }
  parts.push(b.subarray(from));
  return Buffer.concat(parts);
}
