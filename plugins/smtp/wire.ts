// The SMTP wire parser, kept apart from the session logic (the idea of nodemailer's
// smtp-server lib/smtp-stream.js). It turns bytes into events: command lines, complete
// DATA messages (dot-unstuffed) and BDAT chunks. The session pulls events one at a time
// with `read()` and switches the mode (DATA after its 354); BDAT framing is handled here
// because the chunk bytes follow the command without waiting for a reply (RFC 3030 §2).
//
// No string concatenation of message bytes: message data is kept as Buffer slices of
// the incoming chunks and joined once at the end.
import { isUtf8 } from "node:buffer";

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

export type DataError = "too-big" | "line-too-long" | "bare-eol";

export type WireEvent =
  /** A command line (or an AUTH continuation) without its CRLF. `binary`: not UTF-8 or
   *  holds control characters. */
  | { type: "line"; line: string; binary: boolean }
  /** A command line longer than the bound; the rest of it up to LF is dropped. */
  | { type: "line-too-long" }
  /** DATA ended with CRLF.CRLF (RFC 5321 §4.1.1.4). `data` is null when `error` is set. */
  | { type: "message"; data: Buffer | null; size: number; error?: DataError }
  /** A bare LF or CR inside DATA (RFC 5321 §2.3.8): the session refuses and closes, so a
   *  "\n.\n" can never end the data early (SMTP smuggling). */
  | { type: "bare-eol" }
  /** A whole BDAT chunk (RFC 3030 §2): `data` is null when it was over the budget or when
   *  `error` is set. `syntaxError`: a BDAT line that could not be parsed (no bytes read). */
  | { type: "chunk"; size: number; last: boolean; data: Buffer | null; error?: DataError }
  | { type: "bdat-syntax"; line: string };

export interface WireLimits {
  /** Longest command line in octets including CRLF (AUTH lines need 12288, RFC 4954 §4). */
  maxCommandLine: number;
  /** Longest text line in message data, octets including CRLF (RFC 5321 §4.5.3.1.6). */
  maxDataLine: number;
  /** Largest message (RFC 1870 SIZE). */
  maxMessageSize: number;
}

export interface WireReader {
  push(chunk: Buffer): void;
  /** The next complete event, or null when more input is needed. */
  read(): WireEvent | null;
  /** Switch to DATA mode (after the 354 reply). */
  startData(): void;
  /** A new message begins (MAIL): reset the per-message BDAT line state and budget. */
  resetMessage(): void;
  /** Bytes the current BDAT message may still hold; larger chunks are read and dropped. */
  setBudget(bytes: number): void;
  /** Drop buffered input (STARTTLS: RFC 3207 §4.2 — pipelined plaintext is discarded). */
  discard(): void;
  /** Unconsumed bytes held (for backpressure). */
  buffered(): number;
  /** True while message data is being received (after DATA's 354, inside a BDAT chunk). */
  inData(): boolean;
}

type Mode = "command" | "data" | "bdat" | "dead";

// DATA scanner states.
const LINE_START = 0; // at the first byte of a line
const AFTER_DOT = 1; // a "." at line start, not yet known whether stuffing or the end
const AFTER_DOT_CR = 2; // ".\r" at line start
const MID = 3; // inside a line
const AFTER_CR = 4; // a CR ended the previous chunk

const BDAT_RE = /^BDAT +(\d{1,15})( +LAST)? *$/i;

export function createWireReader(limits: WireLimits): WireReader {
  let buf: Buffer = Buffer.alloc(0);
  let pos = 0;
  let mode: Mode = "command";
  let skipping = false; // dropping the rest of an over-long command line

  // DATA state
  let st = LINE_START;
  let lineLen = 0;
  let parts: Buffer[] = [];
  let size = 0;
  let error: DataError | undefined;

  // BDAT state
  let bdatLeft = 0;
  let bdatSize = 0;
  let bdatLast = false;
  let bdatKeep = true;
  let bdatParts: Buffer[] = [];
  let budget = limits.maxMessageSize;
  // Line state across the BDAT chunks of one message.
  let bCr = false;
  let bLine = 0;
  let bError: DataError | undefined;

  function startMessageData(): void {
    st = LINE_START;
    lineLen = 0;
    parts = [];
    size = 0;
    error = undefined;
  }

  function fail(e: DataError): void {
    if (!error) error = e;
    parts = [];
  }

  function keep(b: Buffer, from: number, to: number): void {
    if (error || to <= from) return;
    size += to - from;
    if (size > limits.maxMessageSize) return fail("too-big");
    parts.push(b.subarray(from, to));
  }

  /** RFC 5321 §4.5.2 transparency: a leading "." is removed; "." alone ends the data.
   *  Only CRLF ends a line; a bare LF or CR anywhere is refused (RFC 5321 §2.3.8). */
  function readData(): WireEvent | null {
    const b = buf;
    const n = b.length;
    let i = pos;
    let seg = i;
    while (i < n) {
      if (st === MID) {
        const lf = b.indexOf(LF, i);
        if (lf < 0) {
          const cr = b.indexOf(CR, i);
          if (cr >= 0 && cr !== n - 1) return bareEol();
          lineLen += n - i;
          if (cr === n - 1) st = AFTER_CR;
          i = n;
          break;
        }
        // The only CR of the line must be right before its LF.
        const cr = b.indexOf(CR, i);
        if (lf === i || cr !== lf - 1) return bareEol();
        lineLen += lf + 1 - i;
        if (lineLen > limits.maxDataLine) fail("line-too-long");
        i = lf + 1;
        st = LINE_START;
        lineLen = 0;
        continue;
      }
      const c = b[i]!;
      if (st === LINE_START) {
        if (c === DOT) {
          keep(b, seg, i);
          seg = i + 1; // the dot is either stuffing or part of the end marker: never kept
          st = AFTER_DOT;
          lineLen = 1;
          i++;
        } else st = MID;
        continue;
      }
      if (st === AFTER_DOT) {
        if (c === CR) {
          keep(b, seg, i);
          seg = i + 1;
          st = AFTER_DOT_CR;
          i++;
          continue;
        }
        if (c === LF) return bareEol(); // "\n.\n" / "\r\n.\n"
        st = MID; // stuffed dot: dropped, the line goes on
        continue;
      }
      if (st === AFTER_DOT_CR) {
        if (c !== LF) return bareEol();
        // End of data: everything up to the CRLF before the dot is the message.
        pos = i + 1;
        mode = "command";
        const ev: WireEvent = error ? { type: "message", data: null, size, error } : { type: "message", data: parts.length === 1 ? parts[0]! : Buffer.concat(parts, size), size };
        parts = [];
        return ev;
      }
      // AFTER_CR: a CR ended the previous chunk.
      if (c !== LF) return bareEol();
      lineLen += 1;
      if (lineLen > limits.maxDataLine) fail("line-too-long");
      i++;
      st = LINE_START;
      lineLen = 0;
    }
    keep(b, seg, n);
    if (lineLen > limits.maxDataLine) fail("line-too-long");
    pos = n;
    return null;
  }

  function bareEol(): WireEvent {
    mode = "dead";
    parts = [];
    buf = Buffer.alloc(0);
    pos = 0;
    return { type: "bare-eol" };
  }

  /** Line checks for BDAT bytes (no dot-stuffing there): CRLF only, bounded lines. */
  function scanBdat(b: Buffer, from: number, to: number): void {
    if (bError) return;
    let i = from;
    while (i < to) {
      if (bCr) {
        if (b[i] !== LF) return void (bError = "bare-eol");
        bCr = false;
        bLine = 0;
        i++;
        continue;
      }
      let lf = b.indexOf(LF, i);
      if (lf >= to) lf = -1;
      let cr = b.indexOf(CR, i);
      if (cr >= to) cr = -1;
      if (lf < 0) {
        if (cr >= 0 && cr !== to - 1) return void (bError = "bare-eol");
        bLine += to - i;
        if (cr === to - 1) bCr = true;
        if (bLine > limits.maxDataLine) bError = "line-too-long";
        return;
      }
      if (lf === i || cr !== lf - 1) return void (bError = "bare-eol");
      bLine += lf + 1 - i;
      if (bLine > limits.maxDataLine) return void (bError = "line-too-long");
      bLine = 0;
      i = lf + 1;
    }
  }

  function readBdat(): WireEvent | null {
    const take = Math.min(bdatLeft, buf.length - pos);
    if (take > 0) {
      if (bdatKeep) bdatParts.push(buf.subarray(pos, pos + take));
      scanBdat(buf, pos, pos + take);
      pos += take;
      bdatLeft -= take;
    }
    if (bdatLeft > 0) return null;
    mode = "command";
    let data: Buffer | null = null;
    if (bdatKeep && !bError) data = bdatParts.length === 1 ? bdatParts[0]! : Buffer.concat(bdatParts, bdatSize);
    bdatParts = [];
    const ev: WireEvent = { type: "chunk", size: bdatSize, last: bdatLast, data };
    if (!bdatKeep) ev.error = "too-big";
    else if (bError) ev.error = bError;
    if (bdatLast && bCr) ev.error ??= "bare-eol";
    return ev;
  }

  function readCommand(): WireEvent | null {
    for (;;) {
      const lf = buf.indexOf(LF, pos);
      if (lf < 0) {
        if (!skipping && buf.length - pos > limits.maxCommandLine) {
          skipping = true;
          pos = buf.length;
          return { type: "line-too-long" };
        }
        if (skipping) pos = buf.length;
        return null;
      }
      if (skipping) {
        skipping = false;
        pos = lf + 1;
        continue;
      }
      const start = pos;
      pos = lf + 1;
      if (lf + 1 - start > limits.maxCommandLine) return { type: "line-too-long" };
      const end = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
      const raw = buf.subarray(start, end);
      const binary = !isUtf8(raw) || hasControl(raw);
      const line = raw.toString(binary ? "latin1" : "utf8");
      if (!binary && (line.charCodeAt(0) | 0x20) === 0x62 /* b */) {
        const m = BDAT_RE.exec(line);
        if (m) {
          bdatSize = Number(m[1]);
          bdatLeft = bdatSize;
          bdatLast = m[2] !== undefined;
          bdatKeep = bdatSize <= budget;
          bdatParts = [];
          mode = "bdat";
          return readBdat();
        }
        if (/^BDAT(\s|$)/i.test(line)) return { type: "bdat-syntax", line };
      }
      return { type: "line", line, binary };
    }
  }

  return {
    push(chunk) {
      if (mode === "dead") return;
      if (pos >= buf.length) {
        buf = chunk;
        pos = 0;
      } else {
        buf = Buffer.concat([buf.subarray(pos), chunk]);
        pos = 0;
      }
    },
    read() {
      if (pos >= buf.length && mode !== "bdat") return null;
      switch (mode) {
        case "command":
          return readCommand();
        case "data":
          return readData();
        case "bdat":
          return readBdat();
        case "dead":
          return null;
      }
    },
    startData() {
      mode = "data";
      startMessageData();
    },
    resetMessage() {
      bCr = false;
      bLine = 0;
      bError = undefined;
      budget = limits.maxMessageSize;
    },
    setBudget(bytes) {
      budget = bytes;
    },
    discard() {
      buf = Buffer.alloc(0);
      pos = 0;
      skipping = false;
    },
    buffered() {
      return buf.length - pos;
    },
    inData() {
      return mode === "data" || mode === "bdat";
    },
  };
}

/** Control characters other than TAB make a command line "binary" (RFC 5321 §4.1.1:
 *  commands are printable text). */
function hasControl(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}
