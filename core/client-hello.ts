// The server name of a TLS ClientHello, read before any TLS engine sees it: Bun's own TLS
// (Bun.listen, socket.upgradeTLS) has no asynchronous SNI callback, so a STARTTLS session
// on a Bun socket reads the hello first, asks the tls.certificate hook, then hands the
// bytes to node:tls with that certificate (core/transport.ts).

/** More than this and it is not a ClientHello worth waiting for (RFC 8446 §5.1: 2^14 per record). */
const MAX_HELLO = 64 * 1024;

export type HelloScan =
  /** Not complete yet: read more. */
  | { kind: "more" }
  /** Complete (servername when the client sent one), or not a TLS hello at all
   *  (`bad`): the TLS engine then answers with its own alert. */
  | { kind: "done"; servername?: string; bad?: boolean };

/** Scan the bytes received so far (RFC 8446 §5.1 records, §4.1.2 ClientHello, RFC 6066 §3 server_name). */
export function scanClientHello(buf: Uint8Array): HelloScan {
  const hs: Uint8Array[] = [];
  let have = 0;
  let need = -1;
  let off = 0;
  while (need < 0 || have < need) {
    if (off + 5 > buf.length) return buf.length > MAX_HELLO ? { kind: "done", bad: true } : { kind: "more" };
    if (buf[off] !== 22) return { kind: "done", bad: true }; // not a handshake record
    const len = (buf[off + 3]! << 8) | buf[off + 4]!;
    if (len === 0 || len > 16384) return { kind: "done", bad: true };
    if (off + 5 + len > buf.length) return buf.length > MAX_HELLO ? { kind: "done", bad: true } : { kind: "more" };
    hs.push(buf.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need < 0 && have >= 4) {
      const first = concat(hs, 4);
      if (first[0] !== 1) return { kind: "done", bad: true }; // handshake type client_hello
      need = 4 + ((first[1]! << 16) | (first[2]! << 8) | first[3]!);
      if (need > MAX_HELLO) return { kind: "done", bad: true };
    }
  }
  const msg = concat(hs, need);
  const servername = serverName(msg.subarray(4));
  return servername === null ? { kind: "done", bad: true } : { kind: "done", servername };
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  if (parts[0]!.length >= n) return parts[0]!.subarray(0, n);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    const take = Math.min(p.length, n - o);
    out.set(p.subarray(0, take), o);
    o += take;
    if (o === n) break;
  }
  return out;
}

/** The host_name of the server_name extension; undefined without one, null when malformed. */
function serverName(b: Uint8Array): string | undefined | null {
  const u16 = (i: number) => (b[i]! << 8) | b[i + 1]!;
  let i = 2 + 32; // legacy_version, random
  if (i >= b.length) return null;
  i += 1 + b[i]!; // legacy_session_id
  if (i + 2 > b.length) return null;
  i += 2 + u16(i); // cipher_suites
  if (i >= b.length) return null;
  i += 1 + b[i]!; // legacy_compression_methods
  if (i === b.length) return undefined; // no extensions
  if (i + 2 > b.length) return null;
  const end = i + 2 + u16(i);
  if (end > b.length) return null;
  i += 2;
  while (i + 4 <= end) {
    const type = u16(i);
    const len = u16(i + 2);
    i += 4;
    if (i + len > end) return null;
    if (type === 0) {
      // ServerNameList: u16 length, then (name_type u8, u16 length, name)
      let j = i + 2;
      while (j + 3 <= i + len) {
        const nlen = u16(j + 1);
        if (b[j] === 0 && j + 3 + nlen <= i + len) {
          const name = String.fromCharCode(...b.subarray(j + 3, j + 3 + nlen));
          return /^[\x21-\x7e]{1,253}$/.test(name) ? name.toLowerCase() : null;
        }
        j += 3 + nlen;
      }
      return null;
    }
    i += len;
  }
  return undefined;
}
