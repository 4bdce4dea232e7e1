// mbox files (mboxo and mboxrd, as Thunderbird, mutt, Python's mailbox and Google Takeout
// write them; the format is described in RFC 4155). A message starts at a "From " line that
// carries a date (so a body line "From here on …" that a writer failed to quote stays in
// the body); ">From " lines lose one ">" (mboxrd; for mboxo the single level is the same).
import { basename } from "node:path";
import { mboxState } from "./mbox-flags.ts";
import { notAMessage, toCrlf } from "./message.ts";
import type { SourceEvent } from "./types.ts";

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
// "From sender Thu Dec  3 08:40:13 2026", optionally a zone before the year (Takeout).
const FROM_LINE = /^From \S*\s+(?:\w{3}\s+)?(\w{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(?:([+-]\d{4}|[A-Z]{2,4})\s+)?(\d{4})\s*$/;

/** The date of a From_ line (asctime, read as UTC unless a zone is given), or null when
 *  the line is not a From_ line. */
export function fromLineDate(line: string): number | null {
  const m = FROM_LINE.exec(line.replace(/\r?\n$/, ""));
  if (!m) return null;
  const mon = MONTHS.indexOf(m[1]!.toLowerCase());
  if (mon < 0) return null;
  let t = Date.UTC(Number(m[7]), mon, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5] ?? 0));
  const zone = m[6];
  if (zone && /^[+-]\d{4}$/.test(zone)) t -= (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3))) * 60_000;
  return t;
}

/** "From " at a line start: 'F','r','o','m',' ' */
const isFromPrefix = (b: Uint8Array, i: number) => b[i] === 70 && b[i + 1] === 114 && b[i + 2] === 111 && b[i + 3] === 109 && b[i + 4] === 32;

function quotedFrom(b: Uint8Array): boolean {
  let i = 0;
  while (b[i] === 62) i++;
  return i > 0 && isFromPrefix(b, i);
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The mbox separator is the empty line before the next From_ line: not the message's. */
function dropSeparator(b: Uint8Array): Uint8Array {
  const n = b.length;
  if (n >= 4 && b[n - 4] === 13 && b[n - 3] === 10 && b[n - 2] === 13 && b[n - 1] === 10) return b.subarray(0, n - 2);
  if (n >= 2 && b[n - 2] === 10 && b[n - 1] === 10) return b.subarray(0, n - 1);
  if (n >= 3 && b[n - 3] === 10 && b[n - 2] === 13 && b[n - 1] === 10) return b.subarray(0, n - 2);
  return b;
}

/** Messages of one mbox file into `folder` (Gmail labels override it). */
export async function* readMbox(path: string, folder: string, chunks?: AsyncIterable<Uint8Array>): AsyncGenerator<SourceEvent> {
  const name = basename(path);
  let parts: Uint8Array[] | null = null;
  let preamble: Uint8Array[] = [];
  let date: number | null = null;
  let count = 0;
  let lineNo = 0;
  let startLine = 0;
  let carry: Uint8Array = new Uint8Array(0);

  function* finish(): Generator<SourceEvent> {
    if (!parts) return;
    count++;
    const where = `${name} message ${count} (line ${startLine})`;
    const raw = dropSeparator(concat(parts));
    parts = null;
    const why = notAMessage(raw);
    if (why) return yield { kind: "skip", where, reason: why };
    const st = mboxState(raw);
    if (st.deleted) return yield { kind: "skip", where, reason: "marked deleted by Thunderbird (folder not compacted)" };
    yield { kind: "message", msg: { folders: st.folders ?? [folder], raw: toCrlf(st.raw), flags: st.flags, internalDate: date ?? undefined, where } };
  }

  function* line(b: Uint8Array): Generator<SourceEvent> {
    lineNo++;
    if (isFromPrefix(b, 0)) {
      const d = fromLineDate(new TextDecoder().decode(b));
      if (d !== null) {
        yield* finish();
        if (preamble.length) {
          const text = concat(preamble);
          preamble = [];
          if (text.some((c) => c !== 10 && c !== 13 && c !== 32)) yield { kind: "skip", where: `${name} lines 1-${lineNo - 1}`, reason: "text before the first From line" };
        }
        parts = [];
        date = d;
        startLine = lineNo;
        return;
      }
    }
    const target = parts ?? preamble;
    target.push(b[0] === 62 && quotedFrom(b) ? b.subarray(1) : b);
  }

  for await (const chunk of chunks ?? Bun.file(path).stream()) {
    let buf = carry.length ? concat([carry, chunk]) : chunk;
    let pos = 0;
    let nl: number;
    while ((nl = buf.indexOf(10, pos)) >= 0) {
      yield* line(buf.subarray(pos, nl + 1));
      pos = nl + 1;
    }
    carry = buf.slice(pos);
    buf = carry;
  }
  if (carry.length) yield* line(carry);
  if (!parts && preamble.length) {
    // No From_ line at all: one message saved as a file, imported if it is one.
    parts = preamble;
    preamble = [];
    startLine = 1;
    date = null;
  }
  yield* finish();
}
