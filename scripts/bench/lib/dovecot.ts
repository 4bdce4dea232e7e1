// Debian's Dovecot on loopback for the IMAP and POP3 benchmarks: Maildir, plaintext auth,
// fsync as shipped, run in the foreground so the benchmark owns and stops it.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => res(p));
    });
  });
}

export interface DovecotOptions {
  protocol: "imap" | "pop3";
  users: string[];
  password: string;
  /** Messages of a user's INBOX: [maildir file name in cur/, content]. */
  messages(user: string, index: number): [string, string | Uint8Array][];
  /** More settings inside the login service block (process limits …). */
  loginConf?: string;
  /** More dovecot.conf at top level. */
  extraConf?: string;
}

/** Runs `run(port, masterPid)` against a fresh Dovecot (the pid for scripts/bench/lib/cpu.ts
 *  treeCpuSeconds); its error (and log tail) when it fails. */
export async function withDovecot<T>(o: DovecotOptions, run: (port: number, masterPid: number) => Promise<T>): Promise<T | { error: string; log?: string }> {
  if (!existsSync("/usr/sbin/dovecot")) return { error: "dovecot not installed" };
  const dir = mkdtempSync(join(tmpdir(), `kotakpos-bench-dovecot-${o.protocol}-`));
  // Dovecot's login and auth processes run as their own users and must reach base_dir.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const root = process.getuid?.() === 0;
  // Dovecot refuses to serve mail as root: the maildirs belong to nobody then.
  const uid = root ? 65534 : process.getuid!();
  const gid = root ? 65534 : process.getgid!();
  try {
    for (const d of ["run", "state", "mail"]) mkdirSync(join(dir, d));
    writeFileSync(join(dir, "passwd"), o.users.map((u) => `${u}:{PLAIN}${o.password}\n`).join(""));
    writeFileSync(
      join(dir, "dovecot.conf"),
      `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = ${o.protocol}
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${uid} gid=${gid} home=${dir}/mail/%u
}
mail_location = maildir:${dir}/mail/%u/Maildir
service ${o.protocol}-login {
  inet_listener ${o.protocol} {
    port = ${port}
  }
  inet_listener ${o.protocol}s {
    port = 0
  }
${o.loginConf ?? ""}
}
service anvil {
  chroot =
}
${o.extraConf ?? ""}
`,
    );
    o.users.forEach((u, i) => {
      const md = join(dir, "mail", u, "Maildir");
      for (const d of ["new", "cur", "tmp"]) mkdirSync(join(md, d), { recursive: true });
      for (const [name, data] of o.messages(u, i)) writeFileSync(join(md, "cur", name), data);
    });
    if (root) Bun.spawnSync(["chown", "-R", `${uid}:${gid}`, join(dir, "mail")]);
    // -F: stay in the foreground, so this process owns it and can stop it.
    const master = Bun.spawn(["/usr/sbin/dovecot", "-F", "-c", join(dir, "dovecot.conf")], { stdout: "ignore", stderr: "pipe" });
    try {
      for (let i = 0; i < 100 && !existsSync(join(dir, "run", "master.pid")) && master.exitCode === null; i++) await Bun.sleep(50);
      if (master.exitCode !== null) return { error: `dovecot did not start: ${(await new Response(master.stderr).text()).trim()}` };
      await Bun.sleep(200);
      return await run(port, master.pid);
    } finally {
      master.kill("SIGTERM");
      await master.exited;
    }
  } catch (err) {
    const log = existsSync(join(dir, "dovecot.log")) ? readFileSync(join(dir, "dovecot.log"), "utf8").trim().split("\n").slice(-3).join(" | ") : "";
    return { error: (err as Error).message, log };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
