import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "./log.ts";
import { parseWorkerInfo, processCount, superviseWorkers, WORKER_ENV, type Supervisor } from "./procs.ts";

test('processCount: a number is taken as is; "auto" is one per CPU, at most 4', () => {
  expect(processCount(1)).toBe(1);
  expect(processCount(3, 2)).toBe(3);
  expect(processCount("auto", 2)).toBe(2);
  expect(processCount("auto", 1)).toBe(1);
  expect(processCount("auto", 16)).toBe(4);
});

test("parseWorkerInfo: unset is null; garbage is refused with a clear message", () => {
  expect(parseWorkerInfo(undefined)).toBeNull();
  expect(parseWorkerInfo("")).toBeNull();
  expect(parseWorkerInfo('{"primary":1,"index":1,"ports":{"smtp":2525}}')).toEqual({ primary: 1, index: 1, ports: { smtp: 2525 } });
  expect(() => parseWorkerInfo("nope")).toThrow(/KOTAKPOS_WORKER is not JSON/);
  expect(() => parseWorkerInfo('{"primary":1,"index":1,"ports":{"smtp":0}}')).toThrow(/malformed/);
  expect(() => parseWorkerInfo('{"primary":"x","index":1,"ports":{}}')).toThrow(/malformed/);
});

const dir = mkdtempSync(join(tmpdir(), "kotakpos-procs-"));
let sup: Supervisor | null = null;
afterEach(async () => {
  await sup?.stop("SIGTERM", 2000);
  sup = null;
});
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

/** A stand-in worker: reports ready, exits on SIGTERM, or by itself after `dieMs`. */
function script(dieMs: number): string {
  const f = join(dir, `w${dieMs}.ts`);
  writeFileSync(
    f,
    `const info = JSON.parse(process.env.${WORKER_ENV});
     process.send({ ready: true });
     process.on("SIGTERM", () => process.exit(0));
     if (${dieMs} > 0) setTimeout(() => process.exit(3), ${dieMs});
     setInterval(() => {}, 1000);
     void info;`,
  );
  return f;
}

test("the supervisor starts workers, restarts one that dies (with backoff), and stops them", async () => {
  const lines: string[] = [];
  const log = createLogger("info", {}, (l) => void lines.push(l));
  sup = superviseWorkers({ workers: 2, command: [process.execPath, script(300)], env: process.env, ports: { smtp: 2525 }, log, backoffMs: 100 });
  expect(await sup.ready(10_000)).toBe(true);
  const first = sup.pids();
  expect(first).toHaveLength(2);
  // Each dies after 300 ms and comes back.
  const deadline = Date.now() + 10_000;
  while (!sup.pids().some((p) => !first.includes(p)) && Date.now() < deadline) await Bun.sleep(50);
  expect(sup.pids().some((p) => !first.includes(p))).toBe(true);
  expect(lines.join("")).toContain("worker exited: restarting");
  await sup.stop("SIGTERM", 2000);
  expect(sup.pids()).toHaveLength(0);
  sup = null;
});

test("ready() says false when a worker never reports", async () => {
  const f = join(dir, "silent.ts");
  writeFileSync(f, "setInterval(() => {}, 1000); process.on('SIGTERM', () => process.exit(0));");
  sup = superviseWorkers({ workers: 1, command: [process.execPath, f], env: process.env, ports: {}, log: createLogger("error") });
  expect(await sup.ready(300)).toBe(false);
});
