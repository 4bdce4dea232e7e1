import { expect, test } from "bun:test";
import { authservId, forgedResults } from "./forged.ts";
import { parseRawHeader } from "./header.ts";

test("authserv-id: token, quoted, after comments, with a version", () => {
  expect(authservId("mx.example.test; spf=pass")).toBe("mx.example.test");
  expect(authservId(" (c (nested)) mx.example.test 1; none")).toBe("mx.example.test");
  expect(authservId('"mx.example.test"; dkim=pass')).toBe("mx.example.test");
  expect(authservId("mx.example.test;")).toBe("mx.example.test");
});

test("only Authentication-Results with our id are forged; byte ranges cover whole fields", () => {
  const raw = Buffer.from(
    "Received: x\r\nAuthentication-Results: MX.example.test;\r\n\tspf=pass\r\nARC-Authentication-Results: i=1; mx.example.test; spf=pass\r\nAuthentication-Results: other.test; spf=pass\r\nFrom: a@b.test\r\n\r\nbody\r\n",
  );
  const f = forgedResults(parseRawHeader(raw).fields, "mx.example.test");
  expect(f).toHaveLength(1);
  expect(raw.subarray(f[0]!.start, f[0]!.end).toString()).toBe("Authentication-Results: MX.example.test;\r\n\tspf=pass\r\n");
});
