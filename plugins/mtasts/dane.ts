// DANE lookups (RFC 7672 §2): MX and TLSA records asked of the configured resolver with the
// AD bit set (RFC 6840 §5.7); only answers it marks authenticated (a validating resolver)
// count. Usable TLSA records for SMTP are DANE-TA(2) and DANE-EE(3) (§3.1).
import * as dgram from "node:dgram";
import * as net from "node:net";
import type { TlsaRecord } from "../../core/delivery/dane.ts";
import { parseAnswers, u16, wireName, type RawRecord } from "../../core/dns/wire.ts";

const T_MX = 15;
const T_TLSA = 52;

export interface SecureAnswer {
  /** The resolver validated the answer (DNSSEC). */
  ad: boolean;
  rcode: number;
  answers: RawRecord[];
}

function message(id: number, name: string, type: number): Buffer {
  // RD + AD (ask for authenticated data); EDNS0 OPT with a 1232-byte buffer.
  const header = Buffer.concat([u16(id), u16(0x0120), u16(1), u16(0), u16(0), u16(1)]);
  const opt = Buffer.concat([Buffer.from([0]), u16(41), u16(1232), Buffer.alloc(4), u16(0)]);
  return Buffer.concat([header, wireName(name), u16(type), u16(1), opt]);
}

function overUdp(server: { host: string; port: number }, msg: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(net.isIPv6(server.host) ? "udp6" : "udp4");
    const t = setTimeout(() => (s.close(), reject(new Error(`no answer from ${server.host}:${server.port}`))), timeoutMs);
    s.on("message", (m) => {
      if (m.length >= 2 && m.readUInt16BE(0) === msg.readUInt16BE(0)) {
        clearTimeout(t);
        s.close();
        resolve(m);
      }
    });
    s.on("error", (e) => (clearTimeout(t), s.close(), reject(e)));
    s.send(msg, server.port, server.host);
  });
}

function overTcp(server: { host: string; port: number }, msg: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect(server.port, server.host, () => s.write(Buffer.concat([u16(msg.length), msg])));
    let buf = Buffer.alloc(0);
    s.setTimeout(timeoutMs, () => (s.destroy(), reject(new Error(`no answer from ${server.host}:${server.port}`))));
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        s.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    s.on("error", reject);
  });
}

export async function secureQuery(server: { host: string; port: number }, name: string, type: number, timeoutMs = 5000): Promise<SecureAnswer> {
  const msg = message(crypto.getRandomValues(new Uint16Array(1))[0]!, name, type);
  let r = parseAnswers(await overUdp(server, msg, timeoutMs));
  if (r.tc) r = parseAnswers(await overTcp(server, msg, timeoutMs));
  return { ad: r.ad, rcode: r.rcode, answers: r.answers.filter((a) => a.type === type) };
}

export function parseTlsa(data: Buffer): TlsaRecord {
  return { usage: data[0]!, selector: data[1]!, mtype: data[2]!, data: data.subarray(3).toString("hex") };
}

const usable = (t: TlsaRecord) => (t.usage === 2 || t.usage === 3) && (t.selector === 0 || t.selector === 1) && t.mtype <= 2 && t.data.length > 0;

/** Is the domain's MX RRset authenticated? Then: usable TLSA records per MX host (hosts
 *  without authenticated ones are left out). undefined: DANE does not apply. */
export async function daneFor(server: { host: string; port: number }, domain: string, hosts: string[]): Promise<Map<string, TlsaRecord[]> | undefined> {
  const mx = await secureQuery(server, domain, T_MX);
  if (!mx.ad || mx.rcode !== 0) return undefined;
  const out = new Map<string, TlsaRecord[]>();
  for (const h of hosts) {
    const t = await secureQuery(server, `_25._tcp.${h}`, T_TLSA).catch(() => undefined);
    if (!t?.ad || t.rcode !== 0) continue;
    const recs = t.answers.map((a) => parseTlsa(a.data)).filter(usable);
    if (recs.length) out.set(h.toLowerCase(), recs);
  }
  return out.size ? out : undefined;
}
