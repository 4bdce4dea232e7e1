// Prints "N passed, N failed" from bun test's junit report (the last line of npm test and
// .ci/run). A file that failed to load is missing from the report but counted in bun's
// own summary; a crash with no report at all is a failure. Exit status 1 if any failed.
// usage: bun scripts/junit-summary.ts JUNIT.xml [CONSOLE.log] [BUN_EXIT_STATUS]
import { existsSync, readFileSync } from "node:fs";

export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

/** Count <testcase> elements: failed if they hold <failure> or <error>, skipped if <skipped>. */
export function countJunit(xml: string): Counts {
  const c: Counts = { passed: 0, failed: 0, skipped: 0 };
  const re = /<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    const body = m[2] ?? "";
    if (/<(failure|error)\b/.test(body)) c.failed++;
    else if (/<skipped\b/.test(body)) c.skipped++;
    else c.passed++;
  }
  return c;
}

/** bun's console summary " N fail" (includes files that failed to load). */
export function consoleFails(log: string): number | undefined {
  const m = [...log.matchAll(/^\s*(\d+) fail\s*$/gm)].at(-1);
  return m ? Number(m[1]) : undefined;
}

export function summarize(junitPath: string, logPath?: string, status?: number): { line: string; failed: boolean } {
  if (!existsSync(junitPath)) {
    return { line: `0 passed, 1 failed (bun test wrote no report${status !== undefined ? `; exit status ${status}` : ""})`, failed: true };
  }
  const c = countJunit(readFileSync(junitPath, "utf8"));
  let failed = c.failed;
  const fromConsole = logPath && existsSync(logPath) ? consoleFails(readFileSync(logPath, "utf8")) : undefined;
  if (fromConsole !== undefined && fromConsole > failed) failed = fromConsole;
  // bun failed but nothing in the report says why (e.g. an error between tests).
  if (status !== undefined && status !== 0 && failed === 0) failed = 1;
  return { line: `${c.passed} passed, ${failed} failed`, failed: failed > 0 };
}

if (import.meta.main) {
  const [junit, log, status] = process.argv.slice(2);
  if (!junit) {
    console.log("0 passed, 1 failed (usage: junit-summary.ts JUNIT.xml [LOG] [STATUS])");
    process.exit(1);
  }
  const r = summarize(junit, log, status === undefined ? undefined : Number(status));
  console.log(r.line);
  process.exit(r.failed ? 1 : 0);
}
