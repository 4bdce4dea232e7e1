// kotakpos install/uninstall into a throwaway root: the unit passes `systemd-analyze
// verify` (Debian's systemd), a second run changes nothing, uninstall keeps the data.
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY_PATH, UNIT_PATH } from "./install.ts";

const repo = join(import.meta.dir, "../..");
const bun = process.execPath;
const tmp = mkdtempSync(join(tmpdir(), "kotakpos-install-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], asUser?: number): { code: number; out: string; err: string } {
  const cmd = [bun, join(repo, "main.ts"), ...args];
  const r = Bun.spawnSync(asUser === undefined ? cmd : ["setpriv", `--reuid=${asUser}`, `--regid=${asUser}`, "--clear-groups", ...cmd], { cwd: tmp, env: { ...process.env, KOTAKPOS_DATA: "" } });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

const isRoot = process.getuid?.() === 0;
const hasSystemdAnalyze = Bun.which("systemd-analyze") !== null;

/** A root with empty account files (useradd --prefix edits them). */
function freshRoot(name: string): string {
  const root = join(tmp, name);
  mkdirSync(join(root, "etc"), { recursive: true });
  for (const f of ["passwd", "group", "shadow", "gshadow"]) writeFileSync(join(root, "etc", f), "");
  return root;
}

describe.skipIf(!isRoot)("install", () => {
  const fakeBinary = join(tmp, "kotakpos-bin");
  writeFileSync(fakeBinary, "#!/bin/sh\necho kotakpos\n", { mode: 0o755 });

  test("writes user, binary, data dir and a unit that systemd-analyze accepts; twice changes nothing", () => {
    const root = freshRoot("r1");
    const first = cli(["install", "--root", root, "--binary", fakeBinary, "--data", "/srv/mail"]);
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    expect(first.out).toContain("+ created system user kotakpos");
    expect(readFileSync(join(root, "etc/passwd"), "utf8")).toMatch(/^kotakpos:x:\d+:\d+::\/srv\/mail:\/usr\/sbin\/nologin$/m);
    expect(readFileSync(join(root, BINARY_PATH), "utf8")).toBe(readFileSync(fakeBinary, "utf8"));
    expect(statSync(join(root, BINARY_PATH)).mode & 0o777).toBe(0o755);
    expect(existsSync(join(root, "srv/mail"))).toBe(true);
    const unit = readFileSync(join(root, UNIT_PATH), "utf8");
    for (const line of [
      "ExecStart=/usr/local/bin/kotakpos serve --data /srv/mail",
      "ExecReload=/usr/local/bin/kotakpos reload --data /srv/mail",
      "AmbientCapabilities=CAP_NET_BIND_SERVICE",
      "NoNewPrivileges=true",
      "ProtectSystem=strict",
      "ReadWritePaths=/srv/mail",
      "PrivateTmp=true",
      "Restart=on-failure",
      "LimitNOFILE=65536",
      "User=kotakpos",
    ])
      expect(unit).toContain(line);

    const before = readFileSync(join(root, UNIT_PATH));
    const second = cli(["install", "--root", root, "--binary", fakeBinary, "--data", "/srv/mail"]);
    expect(second.code).toBe(0);
    expect(second.out).not.toContain("+ ");
    expect(readFileSync(join(root, UNIT_PATH)).equals(before)).toBe(true);
    expect(readFileSync(join(root, "etc/passwd"), "utf8").match(/^kotakpos:/gm)?.length).toBe(1);
  });

  test.skipIf(!hasSystemdAnalyze)("systemd-analyze verify accepts the unit", () => {
    const root = freshRoot("r2");
    expect(cli(["install", "--root", root, "--binary", fakeBinary]).code).toBe(0);
    // the targets the unit names, as on the installed system
    const units = join(root, "usr/lib/systemd/system");
    mkdirSync(units, { recursive: true });
    for (const f of readdirSync("/usr/lib/systemd/system")) {
      const src = join("/usr/lib/systemd/system", f);
      if (/\.(target|slice)$/.test(f) && statSync(src).isFile()) cpSync(src, join(units, f), { dereference: true });
    }
    const r = Bun.spawnSync(["systemd-analyze", `--root=${root}`, "verify", "kotakpos.service"]);
    const out = r.stdout.toString() + r.stderr.toString();
    expect(out.split("\n").filter((l) => l.includes("kotakpos"))).toEqual([]);
    expect(r.exitCode).toBe(0);
  });

  test("uninstall removes unit and binary, keeps the data; refuses without root", () => {
    const root = freshRoot("r3");
    expect(cli(["install", "--root", root, "--binary", fakeBinary]).code).toBe(0);
    writeFileSync(join(root, "var/lib/kotakpos/keep.txt"), "mail");
    const u = cli(["uninstall", "--root", root]);
    expect(u.code).toBe(0);
    expect(existsSync(join(root, UNIT_PATH))).toBe(false);
    expect(existsSync(join(root, BINARY_PATH))).toBe(false);
    expect(readFileSync(join(root, "var/lib/kotakpos/keep.txt"), "utf8")).toBe("mail");
    expect(cli(["uninstall", "--root", root]).out).toContain("nothing to remove");

    const refused = cli(["install", "--root", freshRoot("r4"), "--binary", fakeBinary], 65534);
    expect(refused.code).toBe(1);
    expect(refused.err).toBe("kotakpos: must run as root (sudo kotakpos install); nothing was changed\n");
  });

  test("from source without --binary: a clear error", () => {
    const r = cli(["install", "--root", freshRoot("r5")]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("run install from the compiled binary");
  });
});
