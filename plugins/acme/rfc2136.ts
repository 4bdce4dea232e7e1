// DNS dynamic update (RFC 2136) signed with TSIG (RFC 8945), over TCP (RFC 1035 §4.2.2):
// the built-in provider of the acme.dns01 hook, for BIND, Knot, PowerDNS and hosted DNS
// that speak it. Adds or deletes one TXT record; the answer's TSIG is verified.
import { createHmac, timingSafeEqual } from "node:crypto";
import * as net from "node:net";
import { parseServer } from "../../core/dns/index.ts";
import { skipName, u16, u32, wireName } from "../../core/dns/wire.ts";

export type TsigAlgorithm = "hmac-sha256" | "hmac-sha512" | "hmac-sha1";

export interface UpdateTarget {
  /** "host" or "host:port" of the primary server. */
  server: string;
  zone: string;
  keyName: string;
  algorithm: TsigAlgorithm;
  /** Base64 TSIG secret. */
  secret: string;
  timeoutMs?: number;
}

const T_TXT = 16;
const T_SOA = 6;
const T_TSIG = 250;
const C_IN = 1;
const C_NONE = 254;
const C_ANY = 255;
const OPCODE_UPDATE = 5;
const HASH = { "hmac-sha256": "sha256", "hmac-sha512": "sha512", "hmac-sha1": "sha1" } as const;
const RCODES: Record<number, string> = {
  1: "FORMERR",
  2: "SERVFAIL",
  3: "NXDOMAIN",
  4: "NOTIMP",
  5: "REFUSED",
  6: "YXDOMAIN",
  7: "YXRRSET",
  8: "NXRRSET",
  9: "NOTAUTH (key or zone not accepted)",
  10: "NOTZONE",
  16: "BADSIG",
  17: "BADKEY",
  18: "BADTIME",
};

export class UpdateError extends Error {}

const u48 = (n: number) => {
  const b = Buffer.alloc(6);
  b.writeUIntBE(n, 0, 6);
  return b;
};

function txtRdata(value: string): Buffer {
  const v = Buffer.from(value, "utf8");
  if (v.length > 255) throw new UpdateError("TXT value longer than 255 bytes");
  return Buffer.concat([Buffer.from([v.length]), v]);
}

/** The update message without TSIG (RFC 2136 §2): zone, no prerequisites, one change. */
function updateMessage(id: number, t: UpdateTarget, action: "add" | "delete", name: string, value: string, ttl: number): Buffer {
  const header = Buffer.concat([u16(id), u16(OPCODE_UPDATE << 11), u16(1), u16(0), u16(1), u16(0)]);
  const zone = Buffer.concat([wireName(t.zone), u16(T_SOA), u16(C_IN)]);
  const rdata = txtRdata(value);
  // §2.5.1 add to an RRset (class IN); §2.5.4 delete an RR from an RRset (class NONE, TTL 0).
  const rr = Buffer.concat([wireName(name), u16(T_TXT), u16(action === "add" ? C_IN : C_NONE), u32(action === "add" ? ttl : 0), u16(rdata.length), rdata]);
  return Buffer.concat([header, zone, rr]);
}

function mac(t: UpdateTarget, parts: Buffer[]): Buffer {
  const h = createHmac(HASH[t.algorithm], Buffer.from(t.secret, "base64"));
  for (const p of parts) h.update(p);
  return h.digest();
}

/** RFC 8945 §4.3.3: the TSIG variables covered by the MAC. */
function tsigVariables(t: UpdateTarget, timeSigned: number, fudge: number, error: number, other: Buffer): Buffer {
  return Buffer.concat([wireName(t.keyName), u16(C_ANY), u32(0), wireName(t.algorithm), u48(timeSigned), u16(fudge), u16(error), u16(other.length), other]);
}

function tsigRecord(t: UpdateTarget, id: number, timeSigned: number, fudge: number, macBytes: Buffer): Buffer {
  const rdata = Buffer.concat([wireName(t.algorithm), u48(timeSigned), u16(fudge), u16(macBytes.length), macBytes, u16(id), u16(0), u16(0)]);
  return Buffer.concat([wireName(t.keyName), u16(T_TSIG), u16(C_ANY), u32(0), u16(rdata.length), rdata]);
}

/** Check the answer: its TSIG (RFC 8945 §5.3: MAC over request MAC + answer + variables)
 *  and its RCODE. */
function checkAnswer(t: UpdateTarget, answer: Buffer, requestMac: Buffer): void {
  if (answer.length < 12) throw new UpdateError("short answer");
  const rcode = answer[3]! & 0x0f;
  const counts = [answer.readUInt16BE(4), answer.readUInt16BE(6), answer.readUInt16BE(8), answer.readUInt16BE(10)];
  // Walk to the last record of the additional section: the TSIG.
  let off = 12;
  for (let i = 0; i < counts[0]!; i++) off = skipName(answer, off) + 4;
  const total = counts[1]! + counts[2]! + counts[3]!;
  let tsigStart = -1;
  for (let i = 0; i < total; i++) {
    const start = off;
    off = skipName(answer, off);
    const type = answer.readUInt16BE(off);
    const rdlen = answer.readUInt16BE(off + 8);
    if (i === total - 1 && type === T_TSIG) tsigStart = start;
    off += 10 + rdlen;
  }
  if (tsigStart < 0) throw new UpdateError(rcode ? `server answered ${RCODES[rcode] ?? `RCODE ${rcode}`} (unsigned)` : "unsigned answer (no TSIG)");
  let p = skipName(answer, tsigStart) + 10;
  p = skipName(answer, p);
  const timeSigned = answer.readUIntBE(p, 6);
  const fudge = answer.readUInt16BE(p + 6);
  const macSize = answer.readUInt16BE(p + 8);
  const theirMac = answer.subarray(p + 10, p + 10 + macSize);
  p += 10 + macSize;
  const error = answer.readUInt16BE(p + 2);
  const otherLen = answer.readUInt16BE(p + 4);
  const other = answer.subarray(p + 6, p + 6 + otherLen);
  if (error) throw new UpdateError(`server refused the TSIG: ${RCODES[error] ?? error}`);
  const unsigned = Buffer.from(answer.subarray(0, tsigStart));
  unsigned.writeUInt16BE(counts[3]! - 1, 10);
  const expected = mac(t, [u16(requestMac.length), requestMac, unsigned, tsigVariables(t, timeSigned, fudge, error, other)]);
  if (expected.length !== theirMac.length || !timingSafeEqual(expected, theirMac)) throw new UpdateError("the answer's TSIG does not verify");
  if (rcode) throw new UpdateError(`server answered ${RCODES[rcode] ?? `RCODE ${rcode}`}`);
}

function exchange(t: UpdateTarget, msg: Buffer): Promise<Buffer> {
  const { host, port } = parseServer(t.server);
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    let buf = Buffer.alloc(0);
    s.setTimeout(t.timeoutMs ?? 10_000, () => {
      s.destroy();
      reject(new UpdateError(`no answer from ${t.server}`));
    });
    s.on("connect", () => s.write(Buffer.concat([u16(msg.length), msg])));
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d as Buffer]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        s.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    s.on("error", (e) => reject(new UpdateError(`${t.server}: ${e.message}`)));
  });
}

/** Add (or delete) the TXT record `name` = `value` in the zone. */
export async function updateTxt(t: UpdateTarget, action: "add" | "delete", name: string, value: string, ttl = 60): Promise<void> {
  const id = crypto.getRandomValues(new Uint16Array(1))[0]!;
  const msg = updateMessage(id, t, action, name, value, ttl);
  const timeSigned = Math.floor(Date.now() / 1000);
  const fudge = 300;
  const requestMac = mac(t, [msg, tsigVariables(t, timeSigned, fudge, 0, Buffer.alloc(0))]);
  const signed = Buffer.concat([msg, tsigRecord(t, id, timeSigned, fudge, requestMac)]);
  signed.writeUInt16BE(1, 10); // ARCOUNT: the TSIG
  checkAnswer(t, await exchange(t, signed), requestMac);
}
