// The linux-arm64 build (`npm run build -- --target linux-arm64`), run under Debian's
// qemu-user-static with the arm64 C library of libc6-arm64-cross: `version`, `serve`
// until /healthz answers, one SMTP message in and read back over POP3.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary, freeOffset, run, serve } from "../helpers/binary.ts";

const QEMU = "/usr/bin/qemu-aarch64-static";
const SYSROOT = "/usr/aarch64-linux-gnu";
const missing = !existsSync(QEMU) ? `${QEMU} (Debian qemu-user-static)` : !existsSync(join(SYSROOT, "lib/ld-linux-aarch64.so.1")) ? `${SYSROOT} (Debian libc6-arm64-cross)` : null;
if (missing) console.log(`arm64 test skipped: ${missing} is not installed`);

const tmp = mkdtempSync(join(tmpdir(), "kotakpos-arm64-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test.skipIf(missing !== null)(
  "the arm64 binary runs under qemu: version, serve, a message in and out",
  async () => {
    const built = await buildBinary(join(tmp, "kotakpos-linux-arm64"), "linux-arm64");
    console.log(`arm64 binary: ${(statSync(built).size / 1024 / 1024).toFixed(1)} MiB`);
    const home = join(tmp, "home");
    mkdirSync(home);
    // The test helpers spawn one executable: a wrapper that runs the arm64 one under qemu.
    const bin = join(home, "kotakpos");
    writeFileSync(bin, `#!/bin/sh\nexec ${QEMU} -L ${SYSROOT} ${built} "$@"\n`, { mode: 0o755 });

    const v = await run(bin, ["version"], { cwd: home });
    expect(v.stderr).toBe("");
    expect(v.stdout).toContain("build   linux-arm64 binary");

    const data = join(tmp, "data");
    const offset = await freeOffset();
    const s = await serve(bin, ["--data", data, "--port-offset", String(offset), "--listen", "127.0.0.1"], { cwd: home, timeoutMs: 240_000 });
    console.log(`arm64 start-up under qemu: ${(s.bannerMs / 1000).toFixed(1)} s to the banner`);
    try {
      expect(await (await fetch(`http://127.0.0.1:${offset + 80}/healthz`)).text()).toBe("ok\n");
      const k = (args: string[], stdin?: string) => run(bin, [...args, "--data", data], { cwd: home, stdin });
      expect((await k(["domain", "add", "arm.test"])).code).toBe(0);
      expect((await k(["user", "add", "ann@arm.test", "--password-stdin"], "ann-password-1\n")).code).toBe(0);
      const py = Bun.spawn(
        [
          "python3",
          "-c",
          `
import smtplib
with smtplib.SMTP("127.0.0.1", ${offset + 25}, timeout=60) as c:
    c.sendmail("someone@outside.test", ["ann@arm.test"], "Subject: on arm64\\r\\n\\r\\nhello from an arm board\\r\\n")
`,
        ],
        { stdout: "pipe", stderr: "pipe" },
      );
      expect(await py.exited).toBe(0);
      // read it back over POP3S (passwords never go over plain POP3)
      const rd = Bun.spawn(
        [
          "python3",
          "-c",
          `
import poplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
p = poplib.POP3_SSL("127.0.0.1", ${offset + 995}, context=ctx, timeout=60)
p.user("ann@arm.test"); p.pass_("ann-password-1")
resp, lines, octets = p.retr(1)
sys.stdout.write("\\n".join(l.decode() for l in lines))
p.quit()
`,
        ],
        { stdout: "pipe", stderr: "pipe" },
      );
      const [out, err] = await Promise.all([new Response(rd.stdout).text(), new Response(rd.stderr).text()]);
      expect(err).toBe("");
      expect(out).toContain("hello from an arm board");
    } finally {
      expect((await s.signal("SIGTERM")).code).toBe(0);
    }
  },
  420_000,
);
