// Debian's rspamd for tests: a minimal config (normal worker and controller on free
// 127.0.0.1 ports, Bayes on sqlite3, no Lua rules, a tiny TLD list so it starts in
// seconds), in a temp dir, run in the foreground and stopped by the test.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../helpers/aiosmtpd.ts";

export interface Rspamd {
  url: string;
  controllerUrl: string;
  dir: string;
  /** rspamd's /stat counters. */
  stat(): Promise<{ learned: number; scanned: number }>;
  stop(): Promise<void>;
}

export async function startRspamd(): Promise<Rspamd> {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-rspamd-"));
  const [normal, controller] = [await freePort(), await freePort()];
  writeFileSync(join(dir, "tld.dat"), "com\nnet\norg\ntest\nexample\n");
  writeFileSync(
    join(dir, "rspamd.conf"),
    `options {
  pidfile = "${dir}/rspamd.pid";
  url_tld = "${dir}/tld.dat";
  hs_cache_dir = "${dir}";
  dns { nameserver = ["127.0.0.1:9"]; timeout = 0.2s; retransmits = 0; }
}
logging { type = "file"; filename = "${dir}/rspamd.log"; level = "info"; }
actions { reject = 15; add_header = 6; greylist = 4; }
worker "normal" { bind_socket = "127.0.0.1:${normal}"; count = 1; mime = true; }
worker "controller" { bind_socket = "127.0.0.1:${controller}"; count = 1; secure_ip = "127.0.0.1"; password = "not-needed-from-secure-ip"; }
classifier "bayes" {
  tokenizer { name = "osb"; }
  cache { type = "sqlite3"; file = "${dir}/learn_cache.sqlite"; }
  backend = "sqlite3";
  min_tokens = 1;
  min_learns = 1;
  statfile { symbol = "BAYES_HAM"; spam = false; path = "${dir}/bayes.ham.sqlite"; }
  statfile { symbol = "BAYES_SPAM"; spam = true; path = "${dir}/bayes.spam.sqlite"; }
}
`,
  );
  // DBDIR (hyperscan cache, learn cache) and the rest in the temp dir: nothing left behind.
  const vars = ["DBDIR", "RUNDIR", "LOGDIR"].flatMap((v) => ["--var", `${v}=${dir}`]);
  const proc = Bun.spawn(["rspamd", "-f", "-i", "-c", join(dir, "rspamd.conf"), ...vars], { stdout: "ignore", stderr: "pipe", cwd: dir });
  const url = `http://127.0.0.1:${normal}`;
  const controllerUrl = `http://127.0.0.1:${controller}`;
  const until = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`rspamd exited with ${proc.exitCode}: ${await new Response(proc.stderr).text()}`);
    const ok = await Promise.all([fetch(`${url}/ping`), fetch(`${controllerUrl}/ping`)]).then(
      (rs) => rs.every((r) => r.ok),
      () => false,
    );
    if (ok) break;
    if (Date.now() > until) {
      proc.kill();
      throw new Error("rspamd did not start within 60 s");
    }
    await Bun.sleep(200);
  }
  let stopped = false;
  return {
    url,
    controllerUrl,
    dir,
    async stat() {
      const s = (await (await fetch(`${controllerUrl}/stat`)).json()) as { learned: number; scanned: number };
      return { learned: s.learned, scanned: s.scanned };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(5000)]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
