// Failed logins are rate limited per IP by the core's auth hook; POP3 reports the
// refusal as a temporary one (RFC 3206 [SYS/TEMP]), even for the right password.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import pop3 from "../../plugins/pop3/index.ts";
import { poplib } from "../helpers/pop3.ts";

let server: TestServer;
const ALICE = "alice@example.test";

beforeAll(async () => {
  server = await startTestServer({
    plugins: [pop3],
    users: [{ address: ALICE, password: "alice-pw" }],
    config: { auth: { maxFailuresPerIp: 2 }, pop3: { authFailureDelayMs: 0 } },
  });
});
afterAll(async () => {
  await server?.cleanup();
});

test("after too many failures from one IP, even the right password gets [SYS/TEMP]", async () => {
  const r = await poplib(server, [
    ["open", "plain"],
    ["user", ALICE],
    ["pass_", "wrong1"],
    ["user", ALICE],
    ["pass_", "wrong2"],
    ["open", "plain"],
    ["user", ALICE],
    ["pass_", "alice-pw"],
  ]);
  expect(r[2]).toEqual({ err: expect.stringMatching(/^-ERR \[AUTH\]/) });
  expect(r[4]).toEqual({ err: expect.stringMatching(/^-ERR \[AUTH\]/) });
  expect(r[7]).toEqual({ err: expect.stringMatching(/^-ERR \[SYS\/TEMP\] /) });
});
