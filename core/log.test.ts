import { expect, test } from "bun:test";
import { createLogger } from "./log.ts";

test("text and json formats carry the same fields; json is one object per line", () => {
  const lines: string[] = [];
  const text = createLogger("info", { conn: "c1" }, (l) => lines.push(l));
  const json = createLogger("info", { conn: "c1" }, (l) => lines.push(l), "json");
  text.child({ service: "smtp" }).warn("auth failed", { user: "a b", err: new Error("boom\nline") });
  json.child({ service: "smtp" }).warn("auth failed", { user: "a b", err: new Error("boom\nline") });
  json.debug("not logged");
  expect(lines.length).toBe(2);
  expect(lines[0]).toMatch(/^\S+Z warn  auth failed conn=c1 service=smtp user="a b" err="boom\\nline"\n$/);
  expect(lines[1]!.endsWith("\n")).toBe(true);
  expect(lines[1]!.slice(0, -1).includes("\n")).toBe(false);
  const o = JSON.parse(lines[1]!) as Record<string, unknown>;
  expect(o).toEqual({ time: expect.any(String), level: "warn", msg: "auth failed", conn: "c1", service: "smtp", user: "a b", err: "boom\nline" });
});
