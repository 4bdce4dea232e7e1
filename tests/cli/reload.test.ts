// kotakpos reload and SIGHUP on a real `serve`: a new limits.maxMessageSize applies to new
// SMTP transactions while an IMAP IDLE session opened before stays connected; a broken
// config file changes nothing.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeOffset, run, serve } from "../helpers/binary.ts";

const repo = join(import.meta.dir, "../..");
const tmp = mkdtempSync(join(tmpdir(), "kotakpos-reload-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A line-reading socket client (IMAP and SMTP are line protocols). */
async function lineClient(port: number) {
  const sock = net.connect(port, "127.0.0.1");
  await new Promise<void>((res, rej) => sock.once("connect", res).once("error", rej));
  let buf = "";
  let closed = false;
  sock.setEncoding("latin1");
  sock.on("data", (d: string) => void (buf += d));
  sock.on("close", () => void (closed = true));
  return {
    send: (s: string) => sock.write(s),
    async until(re: RegExp, ms = 10_000): Promise<string> {
      const end = Date.now() + ms;
      while (!re.test(buf)) {
        if (closed || Date.now() > end) throw new Error(`waiting for ${re}: got ${JSON.stringify(buf)}`);
        await Bun.sleep(10);
      }
      const m = re.exec(buf)!;
      const out = buf.slice(0, m.index + m[0].length);
      buf = buf.slice(m.index + m[0].length);
      return out;
    },
    isClosed: () => closed,
    end: () => sock.end(),
  };
}

async function ehloSize(port: number): Promise<number> {
  const c = await lineClient(port);
  await c.until(/^220 .*\r\n/m);
  c.send("EHLO reload.test\r\n");
  const r = await c.until(/^250 .*\r\n/m);
  c.send("QUIT\r\n");
  c.end();
  return Number(/250-SIZE (\d+)/.exec(r)![1]);
}

const config = (size: number | string) =>
  `hostname = "mx.reload.test"\n[auth]\nallowPlaintextOnLoopback = true\n[limits]\nmaxMessageSize = ${typeof size === "number" ? size : JSON.stringify(size)}\n[plugins]\ndisabled = ["mailauth"]\n`;

test("reload applies a new size limit to new transactions; IDLE stays; a broken file changes nothing", async () => {
  const home = join(tmp, "home");
  mkdirSync(home);
  const bin = join(home, "kotakpos");
  writeFileSync(bin, `#!/bin/sh\nexec ${process.execPath} ${join(repo, "main.ts")} "$@"\n`, { mode: 0o755 });
  const data = join(tmp, "data");
  mkdirSync(data);
  const file = join(data, "kotakpos.toml");
  writeFileSync(file, config(100_000));
  const offset = await freeOffset();
  const s = await serve(bin, ["--data", data, "--port-offset", String(offset), "--listen", "127.0.0.1"], { cwd: home });
  try {
    const k = (args: string[], stdin?: string) => run(bin, [...args, "--data", data], { cwd: home, stdin });
    expect((await k(["domain", "add", "reload.test"])).code).toBe(0);
    expect((await k(["user", "add", "ann@reload.test", "--password-stdin"], "ann-pw-1\n")).code).toBe(0);

    const imap = await lineClient(offset + 143);
    await imap.until(/^\* OK .*\r\n/m);
    imap.send("a LOGIN ann@reload.test ann-pw-1\r\n");
    await imap.until(/^a OK .*\r\n/m);
    imap.send("b SELECT INBOX\r\nc IDLE\r\n");
    await imap.until(/^\+ .*\r\n/m);

    expect(await ehloSize(offset + 25)).toBe(100_000);
    writeFileSync(file, config(2000));
    const r = await k(["reload"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("reloaded: limits.maxMessageSize\n");
    expect(await ehloSize(offset + 25)).toBe(2000);

    // a message over the new limit is refused, a small one arrives in the IDLE session
    const smtp = await lineClient(offset + 25);
    await smtp.until(/^220 .*\r\n/m);
    smtp.send("EHLO reload.test\r\nMAIL FROM:<x@elsewhere.test> SIZE=5000\r\n");
    expect(await smtp.until(/^552 .*\r\n/m)).toContain("552");
    smtp.send("MAIL FROM:<x@elsewhere.test>\r\nRCPT TO:<ann@reload.test>\r\nDATA\r\n");
    await smtp.until(/^354 .*\r\n/m);
    smtp.send("Subject: small\r\n\r\nfits\r\n.\r\n");
    await smtp.until(/^250 .*\r\n/m);
    smtp.send("QUIT\r\n");
    await imap.until(/^\* 1 EXISTS\r\n/m);
    expect(imap.isClosed()).toBe(false);

    // a broken file: refused with the reason, the running config unchanged
    writeFileSync(file, config("big"));
    const bad = await k(["reload"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^kotakpos: reload refused, the running config stays in force: .*limits\.maxMessageSize/);
    expect(await ehloSize(offset + 25)).toBe(2000);

    // SIGHUP does the same
    writeFileSync(file, config(3000));
    s.proc.kill("SIGHUP");
    const until = Date.now() + 10_000;
    while ((await ehloSize(offset + 25)) !== 3000 && Date.now() < until) await Bun.sleep(50);
    expect(await ehloSize(offset + 25)).toBe(3000);

    imap.send("DONE\r\n");
    await imap.until(/^c OK .*\r\n/m);
    imap.send("d LOGOUT\r\n");
  } finally {
    expect((await s.signal("SIGTERM")).code).toBe(0);
  }
}, 180_000);

test("reload without a running server says so", async () => {
  const r = await run(process.execPath, [join(repo, "main.ts"), "reload", "--data", join(tmp, "none")], { cwd: tmp });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^kotakpos: no running server answers at .*control\.sock: nothing to reload\n$/);
});
