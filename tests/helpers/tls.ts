// Look at the certificate a listener presents: node:tls for the leaf (serial, issuer),
// openssl s_client (a TLS client others wrote) for chain verification, with STARTTLS.
import * as tls from "node:tls";
import { writeFileSync } from "node:fs";

export interface Leaf {
  serial: string;
  issuer: string;
  subject: string;
  /** SHA-256 of the public key (the key stays across renewals). */
  pubkey: string;
}

/** The leaf a TLS listener presents for `servername` (undefined: no SNI). */
export function leafOf(port: number, servername?: string): Promise<Leaf> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false }, () => {
      const c = s.getPeerCertificate();
      s.destroy();
      resolve({
        serial: c.serialNumber,
        issuer: String(c.issuer?.CN ?? ""),
        subject: String(c.subject?.CN ?? ""),
        pubkey: new Bun.CryptoHasher("sha256").update(c.pubkey ?? Buffer.alloc(0)).digest("hex"),
      });
    });
    s.setTimeout(5000, () => (s.destroy(), reject(new Error("tls probe timed out"))));
    s.on("error", reject);
  });
}

export type StartTls = "smtp" | "imap" | "pop3";

/** `openssl s_client` against a listener; resolves with its output (stdout + stderr). */
export async function sClient(opts: { port: number; servername: string; caFile: string; starttls?: StartTls; extra?: string[] }): Promise<{ ok: boolean; out: string }> {
  const args = [
    "openssl",
    "s_client",
    "-connect",
    `127.0.0.1:${opts.port}`,
    "-servername",
    opts.servername,
    "-verify_hostname",
    opts.servername,
    "-CAfile",
    opts.caFile,
    "-verify_return_error",
    ...(opts.starttls ? ["-starttls", opts.starttls] : []),
    ...(opts.extra ?? []),
  ];
  const p = Bun.spawn(args, { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  // Hold stdin open until the handshake is reported, then let it quit.
  const timer = setTimeout(() => p.kill(), 10_000);
  const read = async (stream: ReadableStream<Uint8Array>) => {
    let text = "";
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      text += dec.decode(chunk);
      if (/Verify return code/.test(text)) p.stdin.end();
    }
    return text;
  };
  const [out, err] = await Promise.all([read(p.stdout), read(p.stderr)]);
  clearTimeout(timer);
  await p.exited;
  const all = out + err;
  return { ok: /Verify return code: 0 \(ok\)/.test(all), out: all };
}

/** Write a PEM to a file (for -CAfile). */
export function pemFile(path: string, pem: string): string {
  writeFileSync(path, pem);
  return path;
}
