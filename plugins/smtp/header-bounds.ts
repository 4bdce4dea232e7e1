// Bounds on the header section, checked before any hook sees the message: checks such as
// DKIM verification cost more than linear time in the size of a field, so one huge field
// (a 4 MB To:) must be refused cheaply instead of being handed to them. RFC 5322 §2.1.1
// limits lines to 998 characters; folded fields have no limit there, ours is generous.
import type { Reply } from "../../core/types.ts";

export interface HeaderLimits {
  /** Bytes of the whole header section (up to the empty line). */
  maxSection: number;
  /** Bytes of one field, its folded lines included. */
  maxField: number;
}

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;

const kb = (n: number) => (n >= 1024 * 1024 ? `${n / 1024 / 1024} MB` : `${Math.round(n / 1024)} KB`);

/** A refusal when the header section or one of its fields is over the limit; null when
 *  within. Time is linear in min(message size, maxSection). */
export function checkHeaderBounds(raw: Uint8Array, lim: HeaderLimits): Reply | null {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  // The empty line ends the section (RFC 5322 §2.1); only the first maxSection bytes are searched.
  const window = buf.subarray(0, Math.min(buf.length, lim.maxSection + 2));
  const end = window[0] === CR && window[1] === LF ? 0 : window.indexOf("\r\n\r\n");
  if (end < 0 && buf.length > lim.maxSection) {
    return { code: 552, enhanced: "5.3.4", text: `Message header section too large (limit ${kb(lim.maxSection)})` };
  }
  const sectionEnd = end < 0 ? buf.length : end + 2;
  let fieldStart = 0;
  for (let i = 0; i < sectionEnd; ) {
    const nl = buf.indexOf(LF, i);
    const lineEnd = nl < 0 || nl >= sectionEnd ? sectionEnd : nl + 1;
    const next = buf[lineEnd];
    // A field goes on while the next line starts with white space (folding, §2.2.3).
    if (lineEnd >= sectionEnd || (next !== SP && next !== HT)) {
      if (lineEnd - fieldStart > lim.maxField) {
        const colon = buf.indexOf(":", fieldStart);
        const name = colon > fieldStart && colon - fieldStart < 80 ? buf.toString("latin1", fieldStart, colon).replace(/[^\x21-\x7e]/g, "?") : "?";
        return { code: 554, enhanced: "5.6.0", text: `Header field ${name} too long (limit ${kb(lim.maxField)} per field)` };
      }
      fieldStart = lineEnd;
    }
    i = lineEnd;
  }
  return null;
}
