import { expect, test } from "bun:test";
import { join } from "node:path";
import { execProcess } from "./exec.ts";

test("execProcess replaces the process: same pid, the argv and environment given, the streams kept", async () => {
  const script = `import { execProcess } from ${JSON.stringify(join(import.meta.dir, "exec.ts"))};
process.stdout.write("before\\n", () => {
  const why = execProcess(["/bin/sh", "-c", 'echo "after $$ $0 $KEPT \${DROPPED:-none}"', "arg0"], { KEPT: "kept-value" });
  console.log("not replaced: " + why);
});`;
  const proc = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH, DROPPED: "x" } });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(err).toBe("");
  expect(code).toBe(0);
  expect(out).toBe(`before\nafter ${proc.pid} arg0 kept-value none\n`);
});

test("a failed exec returns the reason and this process goes on", () => {
  expect(execProcess(["/nonexistent/kotakpos-test"], {})).toBe("execve /nonexistent/kotakpos-test failed");
});
