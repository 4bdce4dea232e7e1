// The edge relay across crashes, with E (edge) and H (home) as real `kotakpos serve`
// processes paired by the CLI (`edge add --json` on E, `edge join` at H): H killed (-9)
// while mail waits on E; after H's restart the mail arrives within 30 s, and a kill -9 of
// E in the middle of that transfer loses nothing (at-least-once: every message arrives).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import type { TestDns } from "../helpers/dns-server.ts";
import { freePort, waitPort } from "../helpers/aiosmtpd.ts";
import { startDnsFor, startSide, until } from "../helpers/pair.ts";
import { main } from "../../main.ts";
import type { EdgeStatus } from "../../plugins/edge/index.ts";

const ROOT = join(import.meta.dir, "../..");
const CAROL = { address: "carol@c.test", password: "carol-password-1" };
const HANNA = { address: "hanna@home.test", password: "hanna-password-1" };
const N = 10;

let dns: TestDns;
let c: TestServer;
const dirs: string[] = [];
const procs = new Set<ReturnType<typeof Bun.spawn>>();
const ports = { cSmtp: 0, eSmtp: 0, eOdmr: 0, hImap: 0 };
let eDir = "";
let hDir = "";

function configFile(dir: string, lines: string[], fixed: Record<string, number>): string {
  const f = join(dir, "kotakpos.toml");
  const names = ["submission", "submissions", "imap", "imaps", "pop3", "pop3s", "http", "https", "smtp", "odmr"];
  writeFileSync(
    f,
    [
      ...lines,
      `[listen]`,
      `address = "127.0.0.1"`,
      `portOffset = 0`,
      `[listen.ports]`,
      ...names.map((n) => `${n} = ${fixed[n] ?? 0}`),
      `[auth]`,
      `allowPlaintextOnLoopback = true`,
      `[dns]`,
      `servers = ["${dns.server}"]`,
      `timeout = "1s"`,
      `[log]`,
      `level = "${process.env.KOTAKPOS_TEST_LOG ?? "error"}"`,
      "",
    ].join("\n"),
  );
  return f;
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t), readStdin: async () => "", promptHidden: async () => null, env: {} };
  const code = await main(args, io);
  return { code, out, err };
}

async function spawn(dir: string, port: number): Promise<ReturnType<typeof Bun.spawn>> {
  const p = Bun.spawn([process.execPath, join(ROOT, "main.ts"), "serve", "--data", dir, "--config", join(dir, "kotakpos.toml")], { stdout: "ignore", stderr: "inherit", cwd: ROOT });
  procs.add(p);
  await waitPort(port, p, 20_000);
  return p;
}

async function kill9(p: ReturnType<typeof Bun.spawn>): Promise<void> {
  p.kill("SIGKILL");
  await p.exited;
  procs.delete(p);
}

/** Subjects in Hanna's INBOX at H, read over IMAP (imaplib). */
async function homeSubjects(): Promise<string[]> {
  const p = Bun.spawn(
    [
      "python3",
      "-c",
      `
import imaplib
m = imaplib.IMAP4("127.0.0.1", ${ports.hImap})
m.login("${HANNA.address}", "${HANNA.password}")
m.select("INBOX")
typ, data = m.search(None, "ALL")
for n in data[0].split():
    typ, d = m.fetch(n, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    print(d[0][1].decode().strip())
m.logout()
`,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) return [];
  return out
    .split("\n")
    .filter((l) => l.startsWith("Subject: "))
    .map((l) => l.slice(9).trim());
}

const edgeStatus = async (): Promise<EdgeStatus> => JSON.parse((await cli(["edge", "status", "--json", "--data", eDir])).out) as EdgeStatus;

beforeAll(async () => {
  dns = await startDnsFor("c.test");
  dns.set("home.test", { MX: [{ exchange: "mx.edge.test", priority: 10 }] });
  dns.set("mx.edge.test", { A: ["127.0.0.1"] });
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  c = await startSide("c.test", CAROL, ports.cSmtp, ports.eSmtp, dns);
  eDir = mkdtempSync(join(tmpdir(), "kp-edge-e-"));
  hDir = mkdtempSync(join(tmpdir(), "kp-edge-h-"));
  dirs.push(eDir, hDir);
  configFile(eDir, [`hostname = "mx.edge.test"`, `[delivery]`, `port = ${ports.cSmtp}`, `retry = ["1s"]`, `warnAfter = ""`], { smtp: ports.eSmtp, odmr: ports.eOdmr });
  const prep = await startTestServer({ dataDir: hDir, keepData: true, domains: ["home.test"], users: [HANNA] });
  await prep.cleanup();
  // H takes its time with each message (an extra plugin in its plugins folder), so the
  // transfer is still going when E dies.
  mkdirSync(join(hDir, "plugins"));
  writeFileSync(
    join(hDir, "plugins", "slow-home.ts"),
    'import { definePlugin, pass } from "kotakpos";\nexport default definePlugin({ name: "slow-home", setup(core) { core.hooks.on("smtp.rcpt", async () => { await Bun.sleep(400); return pass; }); } });\n',
  );
  configFile(hDir, [`hostname = "mx.home.test"`, `[delivery]`, `port = 9`, `retry = ["1s"]`, `warnAfter = ""`, `[edge]`, `pollSeconds = 0.5`, `[plugins]`, `disabled = ["smtp"]`], {
    imap: ports.hImap,
  });
}, 30_000);

afterAll(async () => {
  for (const p of procs) await kill9(p);
  await c?.cleanup();
  if (c) rmSync(c.dataDir, { recursive: true, force: true });
  await dns?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test("kill -9 of the home while mail waits, then of the edge mid-transfer: every message arrives", async () => {
  // Pairing by the CLI: the code as JSON on E (no server running: the database directly).
  const added = await cli(["edge", "add", "home.test", "--json", "--data", eDir]);
  expect(added.err).toBe("");
  const { code } = JSON.parse(added.out) as { code: string };
  expect(Object.keys(JSON.parse(added.out))).toEqual(["code"]);
  let e = await spawn(eDir, ports.eOdmr);
  const joined = await cli(["edge", "join", `127.0.0.1:${ports.eOdmr}`, code, "--data", hDir]);
  expect(joined).toEqual({ code: 0, out: `paired: home.test now fetches its mail from 127.0.0.1:${ports.eOdmr} and sends through it\n`, err: "" });
  let h = await spawn(hDir, ports.hImap);
  // The home listens for no SMTP at all (the smtp plugin is off): its mail comes by the link.
  const listeners = (await cli(["plugins", "--data", hDir])).out.split("\n").find((l) => l.startsWith("listeners: "));
  expect(listeners).toContain("imap:");
  expect(listeners).not.toMatch(/\b(smtp|submission|submissions):/);
  expect(listeners).not.toContain("odmr:"); // port 366 is the edge's, bound only with a paired home
  await until("recipients at the edge", async () => (await edgeStatus()).homes[0]?.recipients === 1);

  // The home dies; mail for it is accepted by the edge and waits there.
  await kill9(h);
  const t = Bun.spawn(
    [
      "python3",
      "-c",
      `
import smtplib
from email.message import EmailMessage
with smtplib.SMTP("127.0.0.1", ${c.port("submission")}) as s:
    s.login("${CAROL.address}", "${CAROL.password}")
    for i in range(${N}):
        m = EmailMessage(); m["From"] = "${CAROL.address}"; m["To"] = "${HANNA.address}"; m["Subject"] = "waiting %d" % i
        m.set_content("message %d" % i)
        s.send_message(m)
print("sent")
`,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  expect(await new Response(t.stdout).text()).toContain("sent");
  const queued = await until("all queued at the edge", async () => ((await edgeStatus()).homes[0]?.queued === N ? edgeStatus() : null), 20_000);
  expect(queued.homes[0]).toMatchObject({ domain: "home.test", paired: true, queued: N, lastError: null });

  // The home comes back (timed from when it is up, its start-up aside); the edge is killed
  // in the middle of handing the mail over, and timed again from its own restart.
  h = await spawn(hDir, ports.hImap);
  const homeUp = Date.now();
  await until("the first messages at home", async () => (await homeSubjects()).length >= 1, 30_000);
  const firstAfter = (Date.now() - homeUp) / 1000;
  await kill9(e);
  const atKill = (await homeSubjects()).length;
  expect(atKill).toBeLessThan(N); // the kill really happened mid-transfer
  e = await spawn(eDir, ports.eOdmr);
  const edgeUp = Date.now();
  const all = await until(
    "every message at home",
    async () => {
      const s = new Set(await homeSubjects());
      return Array.from({ length: N }, (_, i) => `waiting ${i}`).every((x) => s.has(x)) ? s : null;
    },
    30_000,
  );
  expect(all.size).toBe(N);
  const restAfter = (Date.now() - edgeUp) / 1000;
  console.log(JSON.stringify({ messages: N, atEdgeKill: atKill, secondsFromHomeRestartToFirst: firstAfter, secondsFromEdgeRestartToAll: restAfter }));
  expect(firstAfter).toBeLessThan(30);
  expect(restAfter).toBeLessThan(30);
  const after = await until("edge queue empty", async () => ((await edgeStatus()).homes[0]?.queued === 0 ? edgeStatus() : null), 10_000);
  expect(after.homes[0]!.queued).toBe(0);
  // At home: the link's last fetch succeeded again after the edge's restart.
  const st = await until("a clean fetch after the restart", async () => {
    const r = await cli(["edge", "status", "--data", hDir]);
    return r.out.includes("last error") ? null : r;
  });
  expect(st.out).toMatch(/^edge of home\.test: 127\.0\.0\.1:\d+, last fetch \d{4}-\d\d-\d\dT[\d:]+Z, \d+ messages fetched, 0 outbound queued\n$/);
}, 120_000);
