// The IMAP wire parser, kept apart from the session (RFC 9051 §2.2, §4, §9 formal syntax).
// CommandReader turns bytes into whole commands (a line plus its literals), asking the
// session to send continuation requests for synchronizing literals; tokenize() turns a
// command into tokens; Args walks the tokens for the command handlers.

/** A command as received: text fragments (without CRLF) each followed by a literal when
 *  the fragment ends in a literal marker. */
export type Chunk = string | Uint8Array;

export interface ReaderLimits {
  /** Longest line fragment (bytes, CRLF excluded). RFC 9051 §4: at least 8192. */
  maxLine: number;
  /** Largest literal allowed for this command (upper-case name; "UID FETCH" style), before
   *  or after login (CommandReader.authenticated). */
  maxLiteral(command: string, authenticated: boolean): number;
  /** Sum of all literals of one command except APPEND's message. */
  maxLiterals: number;
  /** Literals in one command. */
  maxLiteralCount: number;
}

export type ReadEvent =
  | { kind: "command"; chunks: Chunk[] }
  /** A synchronizing literal was accepted: write "+ …" (RFC 9051 §7.5), then keep reading. */
  | { kind: "continue" }
  /** A command was refused while reading it; `fatal`: say BYE and close. */
  | { kind: "error"; tag: string; status: "BAD" | "NO"; code?: string; text: string; fatal: boolean };

const CR = 13;
const LF = 10;
const EMPTY = Buffer.alloc(0);
/** "No chunk yet" (shared, never written: the arrays are made on first use). */
const NO_CHUNKS: Chunk[] = Object.freeze([]) as unknown as Chunk[];
const NO_PARTS: Buffer[] = Object.freeze([]) as unknown as Buffer[];
// RFC 9051 §4.3: literal = "{" number64 ["+"] "}" CRLF; RFC 3516 literal8 = "~{" …
/** Commands whose literals are messages (RFC 8508 REPLACE carries one too). */
export const APPENDING = new Set(["APPEND", "REPLACE", "UID REPLACE"]);
const LITERAL_AT_END = /(~?)\{(\d{1,20})(\+?)\}$/;
const TAG_AND_NAME = /^([^\s(){%*"\\\]+]+) ([A-Za-z]+)(?: ([A-Za-z]+))?/;

/** Incremental reader of IMAP commands. Its state is real (partial lines and literals). */
export class CommandReader {
  private buf: Buffer = EMPTY;
  private chunks: Chunk[] = NO_CHUNKS;
  private literalLeft = 0;
  private literalParts: Buffer[] = NO_PARTS;
  private literalSize = 0;
  private literalTotal = 0;
  private literalCount = 0;
  private tag = "*";
  private command = "";

  /** The session is logged in (larger literals: ReaderLimits.maxLiteral). */
  authenticated = false;

  /** `limits` may be shared by every reader of a server. */
  constructor(private readonly limits: ReaderLimits) {}

  /** The command's next chunk (its arrays are made on first use: an idle session keeps none). */
  private addChunk(c: Chunk): void {
    if (this.chunks === NO_CHUNKS) this.chunks = [];
    this.chunks.push(c);
  }

  push(data: Buffer): void {
    this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data]);
  }

  /** Bytes waiting in the buffer (the session pauses the socket above a bound). */
  buffered(): number {
    return this.buf.length;
  }

  /** True while part of a command has been read (a literal or a line fragment). */
  midCommand(): boolean {
    return this.chunks.length > 0 || this.literalLeft > 0;
  }

  /** Everything buffered, removed (COMPRESS: those bytes are already compressed). */
  takeBuffered(): Buffer {
    const b = this.buf;
    this.buf = EMPTY;
    return b;
  }

  /** Drop everything buffered (STARTTLS: bytes pipelined before the handshake). */
  discard(): void {
    this.buf = EMPTY;
    this.resetCommand();
  }

  /** The buffer after its first `n` bytes; nothing left keeps no chunk alive (an idle
   *  session would hold its last one). */
  private rest(n: number): Buffer {
    return n === this.buf.length ? EMPTY : this.buf.subarray(n);
  }

  /** A raw line (IDLE's DONE, AUTHENTICATE responses). "toolong" when over the bound. */
  readLine(): string | null | "toolong" {
    const i = this.buf.indexOf(LF);
    if (i < 0) return this.buf.length > this.limits.maxLine ? "toolong" : null;
    const end = i > 0 && this.buf[i - 1] === CR ? i - 1 : i;
    const line = this.buf.subarray(0, end).toString("utf8");
    this.buf = this.rest(i + 1);
    if (end > this.limits.maxLine) return "toolong";
    return line;
  }

  next(): ReadEvent | null {
    for (;;) {
      if (this.literalLeft > 0) {
        if (this.buf.length === 0) return null;
        const take = Math.min(this.literalLeft, this.buf.length);
        // Copy: the socket may reuse its buffers, and the literal outlives this chunk.
        if (this.literalParts === NO_PARTS) this.literalParts = [];
        this.literalParts.push(Buffer.from(this.buf.subarray(0, take)));
        this.buf = take === this.buf.length ? EMPTY : this.buf.subarray(take);
        this.literalLeft -= take;
        if (this.literalLeft > 0) return null;
        this.addChunk(this.literalParts.length === 1 ? this.literalParts[0]! : Buffer.concat(this.literalParts, this.literalSize));
        this.literalParts = NO_PARTS;
        continue;
      }
      const i = this.buf.indexOf(LF);
      if (i < 0) {
        if (this.buf.length > this.limits.maxLine) return this.tooLong();
        return null;
      }
      const end = i > 0 && this.buf[i - 1] === CR ? i - 1 : i;
      if (end > this.limits.maxLine) return this.tooLong();
      const line = this.buf.subarray(0, end).toString("utf8");
      this.buf = this.rest(i + 1);
      if (this.chunks.length === 0) {
        const m = TAG_AND_NAME.exec(line);
        this.tag = m ? m[1]! : (/^[^\s]+/.exec(line)?.[0] ?? "*");
        this.command = m ? (m[2]!.toUpperCase() === "UID" && m[3] ? `UID ${m[3].toUpperCase()}` : m[2]!.toUpperCase()) : "";
      }
      this.addChunk(line);
      const lit = LITERAL_AT_END.exec(line);
      if (!lit) {
        const chunks = this.chunks;
        this.resetCommand();
        return { kind: "command", chunks };
      }
      const size = Number(lit[2]);
      const sync = lit[3] !== "+";
      const max = this.limits.maxLiteral(this.command, this.authenticated);
      const isAppend = APPENDING.has(this.command);
      // Messages (MULTIAPPEND, CATENATE parts, RFC 3502 / 4469) may sum to a few times the
      // per-message limit; other commands' literals to maxLiterals.
      const overTotal = this.literalTotal + size > (isAppend ? max * 4 : this.limits.maxLiterals);
      if (size > max || overTotal || this.literalCount >= this.limits.maxLiteralCount || !Number.isSafeInteger(size)) {
        const tag = this.tag;
        this.resetCommand();
        // A refused synchronizing literal is never sent by the client (RFC 9051 §7.5);
        // a non-synchronizing one is already on its way: we cannot stay in sync.
        return {
          kind: "error",
          tag,
          status: isAppend ? "NO" : "BAD",
          code: isAppend ? "TOOBIG" : undefined,
          text: isAppend ? "Message too large" : "Literal too large",
          fatal: !sync,
        };
      }
      this.literalCount++;
      this.literalTotal += size;
      this.literalSize = size;
      this.literalLeft = size;
      if (size === 0) this.addChunk(EMPTY);
      if (sync) return { kind: "continue" };
    }
  }

  private tooLong(): ReadEvent {
    const tag = this.chunks.length > 0 ? this.tag : "*";
    this.discard();
    return { kind: "error", tag, status: "BAD", text: "Line too long", fatal: true };
  }

  private resetCommand(): void {
    this.chunks = NO_CHUNKS;
    this.literalLeft = 0;
    this.literalParts = NO_PARTS;
    this.literalSize = 0;
    this.literalTotal = 0;
    this.literalCount = 0;
    this.tag = "*";
    this.command = "";
  }
}

// ---------- tokens ----------

export type Token =
  /** Atoms, numbers, flags, sequence sets, NIL, and fetch items with their […]<…> parts. */
  { t: "atom"; v: string } | { t: "quoted"; v: string } | { t: "literal"; v: Uint8Array; binary: boolean } | { t: "list"; v: Token[] };

export class ParseError extends Error {}

const MAX_DEPTH = 32;
const MAX_TOKENS = 100_000;

function isAtomChar(c: number): boolean {
  // RFC 9051 §9 atom-specials: "(" ")" "{" SP CTL '"' (and "\" is kept: flags use it)
  return c > 0x20 && c !== 0x28 && c !== 0x29 && c !== 0x7b && c !== 0x22 && c !== 0x7f;
}

/** Tokens of a command (tag and command name included). Throws ParseError. */
export function tokenize(chunks: Chunk[]): Token[] {
  const root: Token[] = [];
  const stack: Token[][] = [root];
  let count = 0;
  const push = (tok: Token) => {
    if (++count > MAX_TOKENS) throw new ParseError("Too many tokens");
    stack[stack.length - 1]!.push(tok);
  };
  for (let ci = 0; ci < chunks.length; ci++) {
    const s = chunks[ci];
    if (typeof s !== "string") throw new ParseError("Unexpected literal");
    let i = 0;
    const n = s.length;
    // The literal marker at the end of this fragment announces chunks[ci + 1].
    const lit = LITERAL_AT_END.exec(s);
    const litAt = lit ? n - lit[0].length : -1;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (i === litAt) {
        const data = chunks[ci + 1];
        if (!(data instanceof Uint8Array)) throw new ParseError("Missing literal");
        push({ t: "literal", v: data, binary: lit![1] === "~" });
        ci++;
        i = n;
        break;
      }
      if (c === 0x20) {
        i++;
        continue;
      }
      if (c === 0x28) {
        if (stack.length > MAX_DEPTH) throw new ParseError("Too deeply nested");
        const list: Token = { t: "list", v: [] };
        push(list);
        stack.push(list.v as Token[]);
        i++;
        continue;
      }
      if (c === 0x29) {
        if (stack.length === 1) throw new ParseError("Unbalanced parenthesis");
        stack.pop();
        i++;
        continue;
      }
      if (c === 0x22) {
        let out = "";
        let j = i + 1;
        for (;;) {
          if (j >= n) throw new ParseError("Unterminated quoted string");
          const d = s.charCodeAt(j);
          if (d === 0x22) break;
          if (d === 0x5c) {
            const e = s.charCodeAt(j + 1);
            // RFC 9051 §4.3: only \" and \\ are quoted-specials escapes.
            if (e !== 0x22 && e !== 0x5c) throw new ParseError("Bad escape in quoted string");
            out += s[j + 1];
            j += 2;
            continue;
          }
          if (d === 0x0d || d === 0x0a || d === 0) throw new ParseError("Bad character in quoted string");
          out += s[j];
          j++;
        }
        push({ t: "quoted", v: out });
        i = j + 1;
        continue;
      }
      if (!isAtomChar(c)) throw new ParseError("Unexpected character");
      let j = i;
      while (j < n) {
        const d = s.charCodeAt(j);
        if (d === 0x5b) {
          // A section: "BODY[HEADER.FIELDS (A B)]" stays one atom (spaces, parens inside).
          const close = s.indexOf("]", j);
          if (close > 0 && (litAt < 0 || close < litAt)) {
            j = close + 1;
            continue;
          }
        }
        if (!isAtomChar(d)) break;
        j++;
      }
      push({ t: "atom", v: s.slice(i, j) });
      i = j;
    }
  }
  if (stack.length !== 1) throw new ParseError("Unbalanced parenthesis");
  return root;
}

// ---------- argument cursor ----------

const decoder = new TextDecoder("utf-8", { fatal: false });

/** Walks tokens for one command; every getter throws ParseError (→ BAD). */
export class Args {
  private i = 0;
  constructor(private toks: Token[]) {}

  done(): boolean {
    return this.i >= this.toks.length;
  }
  peek(): Token | undefined {
    return this.toks[this.i];
  }
  /** The next token is an atom equal (case-insensitively) to `word`: consume it. */
  accept(word: string): boolean {
    const t = this.toks[this.i];
    if (t && t.t === "atom" && t.v.toUpperCase() === word) {
      this.i++;
      return true;
    }
    return false;
  }
  isList(): boolean {
    return this.toks[this.i]?.t === "list";
  }
  token(): Token {
    const t = this.toks[this.i++];
    if (!t) throw new ParseError("Missing argument");
    return t;
  }
  atom(): string {
    const t = this.token();
    if (t.t !== "atom") throw new ParseError("Expected an atom");
    return t.v;
  }
  number(): number {
    const a = this.atom();
    if (!/^\d{1,20}$/.test(a)) throw new ParseError("Expected a number");
    const n = Number(a);
    if (!Number.isSafeInteger(n)) throw new ParseError("Number too large");
    return n;
  }
  /** astring (RFC 9051 §9): atom, quoted or literal. */
  astring(): string {
    const t = this.token();
    if (t.t === "list") throw new ParseError("Expected a string");
    if (t.t === "literal") return decoder.decode(t.v);
    if (t.t === "atom" && /[\[\]]/.test(t.v) && /[ ()]/.test(t.v)) throw new ParseError("Bad atom");
    return t.v;
  }
  /** nstring: NIL → null. */
  nstring(): string | null {
    const t = this.peek();
    if (t?.t === "atom" && t.v.toUpperCase() === "NIL") {
      this.i++;
      return null;
    }
    const s = this.token();
    if (s.t === "quoted") return s.v;
    if (s.t === "literal") return decoder.decode(s.v);
    throw new ParseError("Expected a string or NIL");
  }
  /** A literal's bytes (APPEND's message). */
  literal(): { data: Uint8Array; binary: boolean } {
    const t = this.token();
    if (t.t === "literal") return { data: t.v, binary: t.binary };
    if (t.t === "quoted") return { data: Buffer.from(t.v, "utf8"), binary: false };
    throw new ParseError("Expected a literal");
  }
  list(): Args {
    const t = this.token();
    if (t.t !== "list") throw new ParseError("Expected a parenthesized list");
    return new Args(t.v);
  }
  /** A parenthesized list, or a single item treated as a one-item list. */
  listOrOne(): Args {
    if (this.isList()) return this.list();
    return new Args([this.token()]);
  }
  end(): void {
    if (!this.done()) throw new ParseError("Unexpected extra arguments");
  }
}
