import { expect, test } from "bun:test";
import { toDataCheck } from "./actions.ts";
import { controllerOf } from "./client.ts";

test("rspamd actions map to verdicts", () => {
  expect(toDataCheck({ action: "reject", score: 15, required_score: 15, messages: { smtp_message: "Gtube pattern" } }).verdict).toEqual({
    kind: "reject",
    reply: { code: 554, enhanced: "5.7.1", text: "Message refused as spam: Gtube pattern" },
  });
  expect(toDataCheck({ action: "soft reject", score: 1 }).verdict.kind).toBe("defer");
  expect(toDataCheck({ action: "greylist", score: 4 }).verdict).toMatchObject({ kind: "defer", reply: { code: 451 } });
  const junk = toDataCheck({ action: "add header", score: 7.5, required_score: 15, symbols: { BAYES_SPAM: { name: "BAYES_SPAM", score: 5 } } });
  expect(junk.verdict.kind).toBe("quarantine");
  expect(junk.headers).toContain("X-Rspamd-Score: 7.50 / 15.00");
  expect(junk.headers).toContain("X-Rspamd-Symbols: BAYES_SPAM");
  const ok = toDataCheck({ action: "no action", score: -0.1 });
  expect(ok.verdict.kind).toBe("pass");
  expect(ok.headers).toContain("X-Rspamd-Action: no action");
  // A header value from rspamd cannot smuggle a line break.
  expect(toDataCheck({ action: "no\r\nX-Evil: 1", score: 0 }).headers!.join("")).not.toContain("\r\n");
});

test("the controller defaults to port 11334 on the worker's host", () => {
  expect(controllerOf("http://127.0.0.1:11333", "")).toBe("http://127.0.0.1:11334/");
  expect(controllerOf("http://127.0.0.1:11333", "http://10.0.0.2:9000")).toBe("http://10.0.0.2:9000");
});
