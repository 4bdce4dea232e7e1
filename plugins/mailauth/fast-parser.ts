// mailauth's MessageParser (the base of its DKIM verifier and signer) looks for the end
// of the header section and for bare LFs one byte at a time, in JavaScript (a 4-byte
// window re-sliced per byte, a generator step per byte): most of the CPU of checking an
// unsigned message. These replacements find the same positions with indexOf and hand
// mailauth exactly the chunks, header bytes and state the originals would have
// (fast-parser.test.ts runs both on the same inputs and chunkings). mailauth is pinned
// (package.json); a release that renames what is replaced here fails that test.
import { MessageParser } from "mailauth/lib/dkim/message-parser.js";

interface ParserState {
  state: "header" | "body";
  stateBytes: number[];
  headerBytes: number;
  headerChunks: Buffer[];
  lastByte?: number;
  emitHeaders(chunk?: Buffer): Promise<void>;
  nextChunk(chunk: Buffer): Promise<void>;
}

type Proto = {
  processChunk(this: ParserState, chunk: Buffer): Promise<void>;
  ensureLinebreaks(this: ParserState, input: Buffer): Generator<Buffer>;
};

const proto = (MessageParser as unknown as { prototype: Proto }).prototype;
const originalEnsureLinebreaks = proto.ensureLinebreaks;

/** The original's end-of-header test for the LF at `i`: the byte before it and the one
 *  before that (from this chunk, else the previous chunks' last bytes), and the count of
 *  header bytes up to and including it. RFC 5322 §2.1: an empty line ends the header. */
function endsHeader(chunk: Buffer, i: number, carry: number[], headerBytes: number): boolean {
  const before = (k: number): number | undefined => (i - k >= 0 ? chunk[i - k] : carry[carry.length - (k - i)]);
  const b1 = before(1);
  const b2 = before(2);
  return b1 === 0x0a || (b1 === 0x0d && b2 === 0x0a) || headerBytes === 1 || (headerBytes === 2 && b1 === 0x0d);
}

/** The last (up to) four bytes seen, as the original keeps them. */
function lastFour(carry: number[], chunk: Buffer, end: number): number[] {
  const out = carry.slice();
  for (let k = Math.max(0, end - 4); k < end; k++) out.push(chunk[k]!);
  return out.length > 4 ? out.slice(-4) : out;
}

proto.processChunk = async function processChunk(this: ParserState, chunk: Buffer): Promise<void> {
  if (!chunk?.length) return;
  if (this.state === "header") {
    const carry = this.stateBytes;
    const start = this.headerBytes;
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) {
      if (!endsHeader(chunk, i, carry, start + i + 1)) continue;
      this.stateBytes = lastFour(carry, chunk, i + 1);
      this.headerBytes = start + i + 1;
      if (i === chunk.length - 1) {
        await this.emitHeaders(chunk);
        return;
      }
      await this.emitHeaders(chunk.slice(0, i + 1));
      chunk = chunk.slice(i + 1);
      break;
    }
    if (this.state === "header") {
      this.stateBytes = lastFour(carry, chunk, chunk.length);
      this.headerBytes = start + chunk.length;
    }
  }
  if (this.state !== "body") {
    this.headerChunks.push(chunk);
    return;
  }
  await this.nextChunk(chunk);
};

proto.ensureLinebreaks = function* ensureLinebreaks(this: ParserState, input: Buffer): Generator<Buffer> {
  // Every LF already preceded by CR (always so for mail received over SMTP, which refuses
  // bare LFs): the input as it is. Otherwise the original splits it.
  for (let i = input.indexOf(0x0a); i >= 0; i = input.indexOf(0x0a, i + 1)) {
    const prev = i > 0 ? input[i - 1] : this.lastByte;
    if (prev !== 0x0d) {
      yield* originalEnsureLinebreaks.call(this, input);
      return;
    }
  }
  if (input.length) this.lastByte = input[input.length - 1];
  yield input;
};
