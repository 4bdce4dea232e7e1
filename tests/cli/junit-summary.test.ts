// The last line of npm test / .ci/run: "N passed, N failed" from a real bun test run.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { countJunit, summarize } from "../../scripts/junit-summary.ts";

const dir = mkdtempSync(join(tmpdir(), "kotakpos-junit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run bun test on generated files, as scripts/test.sh does. */
async function run(files: Record<string, string>) {
  const d = mkdtempSync(join(dir, "run-"));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(d, name), body);
  const junit = join(d, "junit.xml");
  const proc = Bun.spawn([process.execPath, "test", "./", "--reporter=junit", `--reporter-outfile=${junit}`], { cwd: d, stdout: "pipe", stderr: "pipe" });
  const log = (await new Response(proc.stdout).text()) + (await new Response(proc.stderr).text());
  const status = await proc.exited;
  writeFileSync(join(d, "log"), log);
  return summarize(junit, join(d, "log"), status);
}

const T = 'import { test, expect } from "bun:test";\n';

test("passes, failures and skips are counted from the report", async () => {
  const r = await run({ "a.test.ts": `${T}test("a", () => {});\ntest("b", () => {});\ntest("c", () => { expect(1).toBe(2); });\ntest.skip("d", () => {});\n` });
  expect(r).toEqual({ line: "2 passed, 1 failed", failed: true });
});

test("all passing gives 0 failed", async () => {
  const r = await run({ "a.test.ts": `${T}test("a", () => {});\n`, "b.test.ts": `${T}test("b", () => { expect(2).toBe(2); });\n` });
  expect(r).toEqual({ line: "2 passed, 0 failed", failed: false });
});

test("a file that fails to load counts as failed", async () => {
  const r = await run({ "a.test.ts": `${T}test("a", () => {});\n`, "b.test.ts": `${T}import "./missing-module";\ntest("b", () => {});\n` });
  expect(r.failed).toBe(true);
  expect(r.line).toMatch(/^1 passed, [1-9]\d* failed$/);
});

test("no report at all is a failure", () => {
  const r = summarize(join(dir, "nothing.xml"), undefined, 134);
  expect(r.failed).toBe(true);
  expect(r.line).toStartWith("0 passed, 1 failed");
});

test("errors inside a testcase count as failures", () => {
  const xml = '<testsuites><testsuite><testcase name="x"><error message="boom"/></testcase><testcase name="y" /></testsuite></testsuites>';
  expect(countJunit(xml)).toEqual({ passed: 1, failed: 1, skipped: 0 });
});
