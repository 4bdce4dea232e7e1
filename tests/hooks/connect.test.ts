// A plugin's `connect` verdict reaches every protocol: each refuses in its own words
// (SMTP 554, IMAP BYE, POP3 -ERR), and `disconnect` fires for every connection.
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as net from "node:net";
import { builtinPlugins } from "../../plugins/index.ts";
import { definePlugin, reject } from "../../core/types.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;
let refuse = true;
let disconnects = 0;
const gate = definePlugin({
  name: "gate",
  setup(core) {
    core.hooks.on("connect", () => (refuse ? reject(554, "5.7.1", "Not from your network") : { kind: "pass" }));
    core.hooks.on("disconnect", () => void disconnects++);
  },
});

beforeAll(async () => {
  s = await startTestServer({ plugins: [gate, ...builtinPlugins] });
});
afterAll(() => s.cleanup());

function greeting(port: number): Promise<string> {
  return new Promise((res, rej) => {
    const c = net.connect(port, "127.0.0.1");
    c.once("data", (d) => {
      c.end("QUIT\r\n");
      res(d.toString());
    });
    c.once("error", rej);
  });
}

test("connect verdicts: SMTP 554, IMAP BYE, POP3 -ERR; disconnect fires", async () => {
  expect(await greeting(s.port("smtp"))).toMatch(/^554 5\.7\.1 Not from your network/);
  expect(await greeting(s.port("imap"))).toMatch(/^\* BYE Not from your network/);
  expect(await greeting(s.port("pop3"))).toMatch(/^-ERR .*Not from your network/);
  refuse = false;
  expect(await greeting(s.port("imap"))).toMatch(/^\* OK/);
  for (let i = 0; i < 100 && disconnects < 4; i++) await Bun.sleep(20);
  expect(disconnects).toBe(4);
});
