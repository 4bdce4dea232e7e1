// `kotakpos migrate-blobs` (the CLI, spawned) moves a serving installation's blobs from the
// folder to S3 (s3rver on loopback) and back, while an IMAP client (imapflow) reads every
// message over and over: no read fails, before, during or after each move.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { startS3, type TestS3 } from "../helpers/s3.ts";

const ROOT = join(import.meta.dir, "../..");
const ANN = { address: "ann@example.test", password: "ann-pw-1" };
const N = 25;
process.env.AWS_ACCESS_KEY_ID ??= "S3RVER";
process.env.AWS_SECRET_ACCESS_KEY ??= "S3RVER";

let s3: TestS3;
let srv: TestServer;
let dataDir: string;
const s3blobs = () => ({ url: `s3://${s3.bucket}/kp`, endpoint: s3.endpoint, region: "us-east-1" });

const start = (blobs: Record<string, unknown>) => startTestServer({ users: [ANN], dataDir, keepData: true, config: { plugins: { disabled: ["mailauth"] }, blobs } });

beforeAll(async () => {
  s3 = await startS3();
  srv = await start({});
  dataDir = srv.dataDir;
  // The CLI reads the S3 endpoint from the data directory's config file.
  writeFileSync(join(dataDir, "kotakpos.toml"), `[blobs]\nendpoint = "${s3.endpoint}"\nregion = "us-east-1"\n`);
  const inbox = (await srv.core.store.getMailbox((await srv.core.store.getAccount(ANN.address))!.id, "INBOX"))!;
  for (let i = 0; i < N; i++) await srv.core.store.append(inbox.id, new TextEncoder().encode(`Subject: moving ${i}\r\n\r\n${`blob ${i} `.repeat(200)}\r\n`));
}, 30_000);
afterAll(async () => {
  await srv?.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
  await s3?.cleanup();
});

// Not a literal in the call: imapflow's TlsOptions type lacks servername (Bun needs it for an IP).
const tlsOptions = { rejectUnauthorized: false, servername: "mx.example.test" };

/** Every message's source over IMAP: the subjects found. */
async function readAll(port: number): Promise<string[]> {
  const c = new ImapFlow({ host: "127.0.0.1", port, secure: false, tls: tlsOptions, auth: { user: ANN.address, pass: ANN.password }, logger: false });
  await c.connect();
  try {
    await c.mailboxOpen("INBOX");
    const out: string[] = [];
    for await (const m of c.fetch("1:*", { source: true })) {
      const s = m.source?.toString("utf8") ?? "";
      if (!/blob \d+ /.test(s)) throw new Error(`message ${m.uid} came back without its body`);
      out.push(/^Subject: (.*)$/m.exec(s)?.[1]?.trim() ?? "");
    }
    return out;
  } finally {
    await c.logout().catch(() => {});
  }
}

/** Reads in a loop until stopped: how many full reads, and every error. */
function reader(expected: number) {
  let running = true;
  const errors: string[] = [];
  let reads = 0;
  const done = (async () => {
    while (running) {
      try {
        const got = await readAll(srv.port("imap"));
        if (got.length !== expected) errors.push(`read ${got.length} of ${expected} messages`);
        reads++;
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return { reads, errors };
    },
  };
}

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn([process.execPath, join(ROOT, "main.ts"), "migrate-blobs", "--data", dataDir, ...args], { stdout: "pipe", stderr: "pipe", cwd: ROOT, env: process.env });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

test("to S3 and back while IMAP reads: no read error, resumable, nothing lost", async () => {
  // 1. folder → S3 while the server serves from the folder
  let r = reader(N);
  const m1 = await cli("--to", `s3://${s3.bucket}/kp`);
  let seen = await r.stop();
  expect(m1.code).toBe(0);
  expect(m1.out).toContain(`${N} copied`);
  expect(seen.errors).toEqual([]);
  expect(seen.reads).toBeGreaterThan(0);
  expect((await s3.keys("kp/")).length).toBe(N);
  // run again: nothing to copy (resumable)
  const again = await cli("--to", `s3://${s3.bucket}/kp`);
  expect(again.out).toContain(`0 copied (0.0 MiB), ${N} already there`);

  // mail arriving after the copy: only in the folder
  const inbox = (await srv.core.store.getMailbox((await srv.core.store.getAccount(ANN.address))!.id, "INBOX"))!;
  await srv.core.store.append(inbox.id, new TextEncoder().encode(`Subject: late\r\n\r\n${"blob 99 ".repeat(200)}\r\n`));

  // 2. restart on S3 with the folder as `previous`: the late message is read from there
  await srv.stop();
  srv = await start({ ...s3blobs(), previous: join(dataDir, "blobs") });
  r = reader(N + 1);
  await Bun.sleep(300);
  const m2 = await cli("--to", `s3://${s3.bucket}/kp`, "--from", join(dataDir, "blobs"));
  expect(m2.code).toBe(0);
  expect(m2.out).toContain("1 copied");
  rmSync(join(dataDir, "blobs"), { recursive: true, force: true });
  await Bun.sleep(300);
  seen = await r.stop();
  expect(seen.errors).toEqual([]);
  expect((await readAll(srv.port("imap"))).sort()).toContain("late");

  // 3. back: S3 → a folder while serving from S3, then restart on the folder with S3 gone
  writeFileSync(join(dataDir, "kotakpos.toml"), `[blobs]\nurl = "s3://${s3.bucket}/kp"\nendpoint = "${s3.endpoint}"\nregion = "us-east-1"\n`);
  r = reader(N + 1);
  const m3 = await cli("--to", join(dataDir, "blobs2"));
  seen = await r.stop();
  expect(m3.code).toBe(0);
  expect(m3.out).toContain(`${N + 1} copied`);
  expect(seen.errors).toEqual([]);
  expect(seen.reads).toBeGreaterThan(0);
  await srv.stop();
  await s3.stop();
  srv = await start({ path: join(dataDir, "blobs2") });
  expect((await readAll(srv.port("imap"))).length).toBe(N + 1);
  expect(await srv.core.store.check()).toEqual([]);
  expect(existsSync(join(dataDir, "blobs"))).toBe(false);
}, 120_000);

test("bad locations are refused with a clear message", async () => {
  const r = await cli("--to", "ftp://example.test/x");
  expect(r.code).toBe(2);
  expect(r.err).toContain("unsupported blob location");
  const none = await cli();
  expect(none.code).toBe(2);
  expect(none.err).toContain("needs --to");
});
