// Issue 11 item 5: the data directory on a small tmpfs that is then filled up. kotakpos
// starts anyway, read-only, and says "disk full" (log, banner hint, /healthz); mail can
// still be read (IMAP with imaplib); new mail gets SMTP 452 4.3.1 (smtplib) and IMAP APPEND
// NO [OVERQUOTA]; once space is freed it accepts again by itself, with no corruption.
// Mounting needs root (or CAP_SYS_ADMIN): otherwise the test is skipped, saying why.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeBytes } from "../../core/disk.ts";
import { buildBinary, freeOffset, run as runBin, serve, type Served } from "../helpers/binary.ts";
import { run } from "../helpers/smtp.ts";

const ALICE = { address: "alice@example.test", password: "alice-pw" };
const tmp = mkdtempSync(join(tmpdir(), "kotakpos-diskfull-"));
const mnt = join(tmp, "mnt");
const mkdir = Bun.spawnSync(["mkdir", mnt]);
const mounted = mkdir.exitCode === 0 ? Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt], { stderr: "pipe" }) : mkdir;
const skipReason = mounted.exitCode === 0 ? "" : `cannot mount a tmpfs (${mounted.stderr?.toString().trim() || `exit ${mounted.exitCode}`}): the full-disk test needs root`;
if (skipReason) console.log(`disk-full test skipped: ${skipReason}`);

const dataDir = join(mnt, "data");
const filler = join(mnt, "filler");
let bin = "";
let offset = 0;
let srv: Served | undefined;
const ports = { smtp: 0, imap: 0, http: 0 };

beforeAll(async () => {
  if (skipReason) return;
  bin = await buildBinary(join(tmp, "kotakpos"));
}, 120_000);
afterAll(async () => {
  srv?.proc.kill("SIGKILL");
  await srv?.proc.exited;
  if (!skipReason) Bun.spawnSync(["umount", mnt]);
  rmSync(tmp, { recursive: true, force: true });
});

const cli = (args: string[], stdin?: string) => runBin(bin, [...args, "--data", dataDir], { cwd: tmp, stdin });
async function start(): Promise<Served> {
  const s = await serve(bin, ["--data", dataDir, "--port-offset", String(offset), "--listen", "127.0.0.1"], { cwd: tmp });
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = s.listeners.find((l) => l.name === k)!.port;
  return s;
}

const PY = `
import imaplib, json, smtplib, sys
port_smtp, port_imap, tag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
out = {}
try:
    s = smtplib.SMTP("127.0.0.1", port_smtp, timeout=20)
    s.sendmail("x@remote.test", ["${ALICE.address}"], ("Subject: %s\\r\\n\\r\\nhello\\r\\n" % tag).encode())
    s.quit()
    out["smtp"] = "250"
except smtplib.SMTPResponseException as e:
    out["smtp"] = "%d %s" % (e.smtp_code, e.smtp_error.decode())
except smtplib.SMTPRecipientsRefused as e:
    out["smtp"] = str(e)
m = imaplib.IMAP4("127.0.0.1", port_imap)
m.login("${ALICE.address}", "${ALICE.password}")
typ, data = m.select("INBOX")
out["exists"] = int(data[0])
typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
out["first"] = data[0][1].decode().strip() if typ == "OK" and data and data[0] else typ
typ, data = m.append("INBOX", None, None, b"Subject: appended\\r\\n\\r\\nx\\r\\n")
out["append"] = "%s %s" % (typ, data[0].decode() if data and data[0] else "")
m.logout()
print(json.dumps(out))
`;

async function probe(tag: string): Promise<{ smtp: string; exists: number; first: string; append: string }> {
  const r = await run(["/usr/bin/python3", "-c", PY, String(ports.smtp), String(ports.imap), tag]);
  if (r.code !== 0) throw new Error(`client failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Fill the file system to the last byte. */
function fill(): void {
  const fd = openSync(filler, "w");
  const chunk = Buffer.alloc(1024 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch {
    // ENOSPC: full; now the last partial pages
    try {
      for (;;) writeSync(fd, chunk.subarray(0, 4096));
    } catch {}
  } finally {
    closeSync(fd);
  }
}

/** One statement through Python's sqlite3 module (another SQLite user); its first row. */
function sqlite(stmt: string): string {
  const code = `import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nprint(c.execute(sys.argv[2]).fetchone())\nc.close()`;
  return Bun.spawnSync(["/usr/bin/python3", "-c", code, join(dataDir, "kotakpos.db"), stmt])
    .stdout.toString()
    .trim();
}

const health = () => fetch(`http://127.0.0.1:${ports.http}/healthz`);

describe.skipIf(!!skipReason)("a full disk (24 MB tmpfs)", () => {
  test("serve starts read-only on a full disk, mail can be read, new mail gets 452 4.3.1 / [OVERQUOTA], writes resume when space is freed", async () => {
    offset = await freeOffset();
    expect((await cli(["domain", "add", "example.test"])).code).toBe(0);
    expect((await cli(["user", "add", ALICE.address, "--password-stdin"], `${ALICE.password}\n`)).code).toBe(0);
    writeFileSync(join(dataDir, "kotakpos.toml"), `hostname = "mx.example.test"\n[auth]\nallowPlaintextOnLoopback = true\n[plugins]\ndisabled = ["mailauth"]\n`);
    srv = await start();
    expect((await probe("before")).smtp).toBe("250");
    expect((await srv.signal("SIGTERM")).code).toBe(0);
    // The last connection to close (here Python's sqlite3, as any clean close) checkpoints
    // and removes the -wal and -shm files: SQLite must create them again at the next start.
    expect(sqlite("PRAGMA wal_checkpoint(TRUNCATE)")).toBe("(0, 0, 0)");
    expect(existsSync(join(dataDir, "kotakpos.db-shm"))).toBe(false);
    fill();
    expect(freeBytes(dataDir)).toBeLessThan(64 * 1024);

    srv = await start();
    expect(srv.banner).toContain("DISK FULL");
    expect(srv.stderr()).toMatch(/error .*disk full: /);
    const h = await health();
    expect(h.status).toBe(503);
    expect(await h.text()).toStartWith("disk full: ");

    const full = await probe("during");
    console.log(`on a full disk: ${JSON.stringify(full)}`);
    expect(full.smtp).toMatch(/^452 4\.3\.1 Insufficient system storage/);
    expect(full.exists).toBe(2); // "before" and the APPEND of the first round
    expect(full.first).toBe("Subject: before");
    expect(full.append).toMatch(/^NO \[OVERQUOTA\] Disk full/);

    unlinkSync(filler);
    const t0 = performance.now();
    while ((await health()).status !== 200 && performance.now() - t0 < 10_000) await Bun.sleep(100);
    console.log(`writes resumed ${(performance.now() - t0).toFixed(0)} ms after space was freed`);
    expect((await health()).status).toBe(200);
    const after = await probe("after");
    expect(after.smtp).toBe("250");
    expect(after.append).toMatch(/^OK /);
    // before + its APPEND, after + its APPEND, then this round's message: nothing lost,
    // nothing half-stored (the refused ones are not there).
    expect((await probe("final")).exists).toBe(5);
    expect((await srv.signal("SIGTERM")).code).toBe(0);
    srv = undefined;
    expect(sqlite("PRAGMA integrity_check")).toBe("('ok',)");
  }, 90_000);
});
