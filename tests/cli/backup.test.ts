// kotakpos backup / restore / verify-backup on a real server: a backup taken while SMTP
// load runs restores into a server whose IMAP (python imaplib) serves every message that
// was acknowledged before the backup began, byte for byte; corruption is found.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { python } from "../helpers/imap.ts";

const repo = join(import.meta.dir, "../..");
const tmp = mkdtempSync(join(tmpdir(), "kotakpos-backup-"));
const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

/** The CLI as its own process, as an admin runs it beside the server. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn([process.execPath, join(repo, "main.ts"), ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, KOTAKPOS_DATA: "" } });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

const bodyOf = (n: number) =>
  `From: load@remote.test\r\nTo: alice@example.test\r\nSubject: load ${n}\r\nMessage-ID: <load-${n}@remote.test>\r\n\r\n${Array.from({ length: 40 }, (_, i) => `line ${i} of message ${n}: the quick brown fox\r\n`).join("")}`;

const FETCH_ALL = `
import imaplib, sys, json
c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
c.login("alice@example.test", "pw-alice")
c.select("INBOX", readonly=True)
typ, data = c.uid("FETCH", "1:*", "(BODY.PEEK[])")
out = [part[1].decode("latin1") for part in data if isinstance(part, tuple)]
print(json.dumps(out))
c.logout()
`;

test("backup under SMTP load, restore, IMAP serves every acknowledged message; incremental; corruption found", async () => {
  const users = [{ address: "alice@example.test", password: "pw-alice" }];
  // no SPF/DKIM lookups: this test is about the data, not the checks
  const live = await startTestServer({ users, config: { plugins: { disabled: ["mailauth"] } } });
  servers.push(live);
  const data = live.dataDir;
  const load = Bun.spawn(["python3", join(import.meta.dir, "smtp-load.py"), String(live.port("smtp")), "alice@example.test"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const acked: number[] = [];
  const reader = (async () => {
    let buf = "";
    for await (const chunk of load.stdout as ReadableStream<Uint8Array>) {
      buf += new TextDecoder().decode(chunk);
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const m = /^ACK (\d+)$/.exec(buf.slice(0, i));
        if (m) acked.push(Number(m[1]));
        buf = buf.slice(i + 1);
      }
    }
  })();
  const t0 = Date.now();
  while (acked.length < 40) {
    if (Date.now() - t0 > 20_000) throw new Error(`load: ${acked.length} acks; ${await new Response(load.stderr).text()}`);
    await Bun.sleep(20);
  }
  const before = [...acked];

  const dest = join(tmp, "b1");
  const b = await cli(["backup", dest, "--data", data]);
  expect(b.err.split("\n").filter((l) => !l.startsWith("database snapshot"))).toEqual([""]);
  expect(b.code).toBe(0);
  expect(b.out).toMatch(/^backup .*b1: \d+ messages, \d+ blobs .* hard-linked\) in [\d.]+ s\n$/);
  const duringLoad = acked.length;
  load.stdin.end();
  await load.exited;
  await reader;
  expect(duringLoad).toBeGreaterThan(before.length); // the load really ran while backing up

  expect((await cli(["verify-backup", dest])).code).toBe(0);

  // restore: refuses a non-empty directory, then serves the mail
  const notEmpty = join(tmp, "busy");
  await Bun.write(join(notEmpty, "x"), "x");
  const refused = await cli(["restore", dest, "--data", notEmpty]);
  expect(refused.code).toBe(1);
  expect(refused.err).toContain("is not empty");
  const restoredDir = join(tmp, "restored");
  const r = await cli(["restore", dest, "--data", restoredDir]);
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  const restored = await startTestServer({ dataDir: restoredDir, users, config: { plugins: { disabled: ["mailauth"] } } });
  servers.push(restored);
  const fetched = JSON.parse(await python(FETCH_ALL, [String(restored.port("imap"))])) as string[];
  for (const n of before) {
    const body = bodyOf(n);
    expect(fetched.some((m) => m.endsWith(body))).toBe(true);
  }

  // incremental: only the new mail comes from the store
  const inc = await cli(["backup", join(tmp, "b2"), "--incremental", "--data", data]);
  expect(inc.code).toBe(0);
  const m = /(\d+) from the store, (\d+) from the previous backup/.exec(inc.out)!;
  expect(Number(m[2])).toBeGreaterThanOrEqual(before.length);
  expect(Number(m[1])).toBeLessThan(Number(m[2]));
  expect((await cli(["verify-backup", join(tmp, "b2")])).code).toBe(0);

  // corruption: a changed blob (a copy, so the linked live blob is untouched) is reported
  const dir = join(dest, "blobs");
  const sub = readdirSync(dir).find((d) => readdirSync(join(dir, d)).length > 0)!;
  const blob = join(dir, sub, readdirSync(join(dir, sub))[0]!);
  const bytes = await Bun.file(blob).bytes();
  rmSync(blob);
  bytes[bytes.length - 3] ^= 1;
  writeFileSync(blob, bytes);
  const bad = await cli(["verify-backup", dest]);
  expect(bad.code).toBe(1);
  expect(bad.out).toContain("content does not match its checksum (corrupted)");
  expect(bad.err).toContain("1 problem(s)");
  // and restore refuses it
  const refused2 = await cli(["restore", dest, "--data", join(tmp, "r2")]);
  expect(refused2.code).toBe(1);
  expect(refused2.err).toContain("does not verify");
  expect(existsSync(join(tmp, "r2"))).toBe(false);
}, 120_000);
