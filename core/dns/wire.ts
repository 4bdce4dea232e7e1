// DNS wire format pieces (RFC 1035 §3, §4) for the few raw messages dns2 cannot make:
// RFC 2136 updates with TSIG (acme) and queries that need the AD bit (DANE, RFC 6840 §5.7).

/** A domain name in wire form, lower-cased (canonical, RFC 4034 §6.2), no compression. */
export function wireName(name: string): Buffer {
  const labels = name.replace(/\.$/, "").toLowerCase().split(".").filter(Boolean);
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, "ascii");
    if (b.length > 63) throw new Error(`label too long in ${name}`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

export const u16 = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
export const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** Skip a (possibly compressed) name at `off`; returns the offset after it. */
export function skipName(b: Buffer, off: number): number {
  for (;;) {
    const len = b[off];
    if (len === undefined) throw new Error("truncated DNS message");
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2;
    off += 1 + len;
  }
}

export interface RawRecord {
  type: number;
  /** The RDATA bytes (names inside are left compressed). */
  data: Buffer;
}

/** Header flags and the answer section of a response. */
export function parseAnswers(msg: Buffer): { id: number; rcode: number; ad: boolean; tc: boolean; answers: RawRecord[] } {
  if (msg.length < 12) throw new Error("short DNS message");
  const flags = msg.readUInt16BE(2);
  const [qd, an] = [msg.readUInt16BE(4), msg.readUInt16BE(6)];
  let off = 12;
  for (let i = 0; i < qd; i++) off = skipName(msg, off) + 4;
  const answers: RawRecord[] = [];
  for (let i = 0; i < an; i++) {
    off = skipName(msg, off);
    const type = msg.readUInt16BE(off);
    const rdlen = msg.readUInt16BE(off + 8);
    answers.push({ type, data: msg.subarray(off + 10, off + 10 + rdlen) });
    off += 10 + rdlen;
  }
  return { id: msg.readUInt16BE(0), rcode: flags & 0x0f, ad: (flags & 0x20) !== 0, tc: (flags & 0x200) !== 0, answers };
}
