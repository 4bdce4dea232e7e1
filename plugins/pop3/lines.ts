// The wire half of the parser: bytes from the socket → lines, bounded. POP3 lines end in
// CRLF (RFC 1939 §3); a bare LF is accepted too (lenient reading, strict writing).

export type LineItem =
  | { kind: "line"; bytes: Buffer }
  /** A line exceeded the limit: its bytes were dropped up to the next LF. */
  | { kind: "toolong" };

export interface LineReader {
  /** Feed bytes; returns the complete lines they finish, in order. */
  push(chunk: Buffer): LineItem[];
  /** Forget buffered bytes (after STLS: RFC 2595 §4 forbids acting on pre-TLS pipelining). */
  reset(): void;
}

export function createLineReader(maxLine: number): LineReader {
  let buf: Buffer = Buffer.alloc(0);
  let discarding = false; // inside an overlong line, waiting for its LF

  return {
    push(chunk) {
      const out: LineItem[] = [];
      let data = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      buf = Buffer.alloc(0);
      let start = 0;
      for (;;) {
        const lf = data.indexOf(0x0a, start);
        if (lf < 0) break;
        if (discarding) {
          discarding = false;
          out.push({ kind: "toolong" });
        } else {
          const end = lf > start && data[lf - 1] === 0x0d ? lf - 1 : lf;
          if (end - start > maxLine) out.push({ kind: "toolong" });
          else out.push({ kind: "line", bytes: Buffer.from(data.subarray(start, end)) });
        }
        start = lf + 1;
      }
      const rest = data.length - start;
      if (discarding) return out;
      // +1: a CR may still be waiting for its LF.
      if (rest > maxLine + 1) discarding = true;
      else if (rest > 0) buf = Buffer.from(data.subarray(start));
      data = Buffer.alloc(0);
      return out;
    },
    reset() {
      buf = Buffer.alloc(0);
      discarding = false;
    },
  };
}
