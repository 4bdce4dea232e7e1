// TLS policy on every listener, as Debian's sslscan sees it: no SSLv2/SSLv3/TLS 1.0/1.1,
// no cipher below 128 bits — on the implicit-TLS ports and after STARTTLS.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({});
});
afterAll(async () => {
  await srv.cleanup();
});

async function sslscan(port: number, starttls?: string): Promise<string> {
  const p = Bun.spawn(["sslscan", "--no-colour", "--no-heartbleed", "--no-renegotiation", "--no-compression", ...(starttls ? [`--starttls-${starttls}`] : []), `127.0.0.1:${port}`], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return out;
}

const cases: [string, string | undefined][] = [
  ["imaps", undefined],
  ["submissions", undefined],
  ["pop3s", undefined],
  ["https", undefined],
  ["smtp", "smtp"],
  ["submission", "smtp"],
  ["imap", "imap"],
  ["pop3", "pop3"],
];

for (const [listener, starttls] of cases) {
  test(`sslscan ${listener}${starttls ? " (STARTTLS)" : ""}: TLS 1.2+ only, no cipher below 128 bits`, async () => {
    const out = await sslscan(srv.port(listener), starttls);
    for (const proto of ["SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1"]) expect(out).toMatch(new RegExp(`^${proto.replace(".", "\\.")}\\s+disabled`, "m"));
    expect(out).toMatch(/^TLSv1\.2\s+enabled/m);
    const ciphers = [...out.matchAll(/^(?:Accepted|Preferred)\s+(\S+)\s+(\d+) bits\s+(\S+)/gm)];
    expect(ciphers.length).toBeGreaterThan(0);
    for (const [, proto, bits, name] of ciphers) {
      expect(["TLSv1.2", "TLSv1.3"]).toContain(proto!);
      if (Number(bits) < 128) throw new Error(`${listener}: weak cipher ${name} (${bits} bits)`);
      expect(name).not.toMatch(/RC4|DES|NULL|EXPORT|anon|MD5/);
    }
  }, 30_000);
}
