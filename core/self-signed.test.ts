// The hand-built certificate is read by software others wrote: openssl parses it, and
// Python's ssl (OpenSSL) trusts it for its name or IP address in a real handshake.
import { afterAll, describe, expect, test } from "bun:test";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { python } from "../tests/helpers/imap.ts";
import { selfSignedCertificate } from "./self-signed.ts";

const dir = mkdtempSync(join(tmpdir(), "kotakpos-selfsigned-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function openssl(args: string[], input: string): Promise<string> {
  const p = Bun.spawn(["openssl", ...args], { stdin: new TextEncoder().encode(input), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`openssl ${args.join(" ")} exited ${code}: ${err}`);
  return out;
}

/** A TLS server with the pair; Python connects with the certificate as its only CA. */
async function pythonTrusts(pem: { key: string; cert: string }, host: string): Promise<string> {
  const server = tls.createServer({ key: pem.key, cert: pem.cert }, (s) => s.end("hello\n"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const ca = join(dir, `ca-${port}.pem`);
  writeFileSync(ca, pem.cert);
  try {
    return await python(
      `import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
with socket.create_connection(("127.0.0.1", int(sys.argv[2]))) as raw:
    with ctx.wrap_socket(raw, server_hostname=sys.argv[3]) as s:
        print(s.version(), s.recv(100).decode().strip())`,
      [ca, String(port), host],
    );
  } finally {
    server.close();
  }
}

describe("selfSignedCertificate", () => {
  test("openssl reads a v3 ECDSA P-256 server certificate with the name in CN and SAN", async () => {
    const notAfter = new Date(Date.UTC(2031, 5, 1));
    const pem = selfSignedCertificate({ hostname: "mail.example.test", notAfter });
    const text = await openssl(["x509", "-noout", "-text"], pem.cert);
    expect(text).toContain("Version: 3 (0x2)");
    expect(text).toContain("Signature Algorithm: ecdsa-with-SHA256");
    expect(text).toContain("ASN1 OID: prime256v1");
    expect(text).toContain("Subject: CN = mail.example.test");
    expect(text).toContain("Issuer: CN = mail.example.test");
    expect(text).toContain("DNS:mail.example.test");
    expect(text).toContain("CA:FALSE");
    expect(text).toContain("Digital Signature");
    expect(text).toContain("TLS Web Server Authentication");
    expect(text).toContain("Not After : Jun  1 00:00:00 2031 GMT");
    const x = new X509Certificate(pem.cert);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkPrivateKey(createPrivateKey(pem.key))).toBe(true);
    expect(x.ca).toBe(false);
  });

  test("a date from 2050 on is a GeneralizedTime (RFC 5280 §4.1.2.5)", async () => {
    const pem = selfSignedCertificate({ hostname: "far.test", notAfter: new Date(Date.UTC(2061, 0, 2, 3, 4, 5)) });
    const text = await openssl(["x509", "-noout", "-enddate"], pem.cert);
    expect(text.trim()).toBe("notAfter=Jan  2 03:04:05 2061 GMT");
    const der = await openssl(["asn1parse"], pem.cert);
    expect(der).toContain("GENERALIZEDTIME");
  });

  test("every certificate has its own key and a positive serial", () => {
    const a = new X509Certificate(selfSignedCertificate({ hostname: "a.test", notAfter: new Date(Date.now() + 86_400_000) }).cert);
    const b = new X509Certificate(selfSignedCertificate({ hostname: "a.test", notAfter: new Date(Date.now() + 86_400_000) }).cert);
    expect(a.serialNumber).not.toBe(b.serialNumber);
    expect(a.publicKey.export({ type: "spki", format: "der" }).equals(b.publicKey.export({ type: "spki", format: "der" }))).toBe(false);
    expect(Number.parseInt(a.serialNumber.slice(0, 2), 16) & 0x80).toBe(0);
  });

  test("Python's ssl verifies a handshake against it by name", async () => {
    const pem = selfSignedCertificate({ hostname: "localhost", notAfter: new Date(Date.now() + 86_400_000) });
    expect(await pythonTrusts(pem, "localhost")).toMatch(/^TLSv1\.[23] hello$/m);
    await expect(pythonTrusts(pem, "other.test")).rejects.toThrow(/Hostname mismatch|doesn't match/);
  });

  test("an IP address becomes an iPAddress SAN that Python's ssl matches", async () => {
    const v4 = selfSignedCertificate({ hostname: "127.0.0.1", notAfter: new Date(Date.now() + 86_400_000) });
    expect(new X509Certificate(v4.cert).subjectAltName).toBe("IP Address:127.0.0.1");
    expect(await pythonTrusts(v4, "127.0.0.1")).toMatch(/hello$/m);
    const v6 = selfSignedCertificate({ hostname: "2001:db8::ffff:192.0.2.1", notAfter: new Date(Date.now() + 86_400_000) });
    expect(await openssl(["x509", "-noout", "-ext", "subjectAltName"], v6.cert)).toContain("IP Address:2001:DB8:0:0:0:FFFF:C000:201");
  });
});
