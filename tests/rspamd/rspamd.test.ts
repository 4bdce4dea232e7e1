// The rspamd plugin against Debian's rspamd started here on loopback (issue 22): GTUBE is
// refused, a clean message passes with rspamd's score, a move into Junk over IMAP calls
// learn_spam, and with rspamd stopped mail is still accepted.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { python } from "../helpers/imap.ts";
import { mailbox, swaks } from "../helpers/smtp.ts";
import { startRspamd, type Rspamd } from "./rspamd-server.ts";
import smtp from "../../plugins/smtp/index.ts";
import imap from "../../plugins/imap/index.ts";
import rspamd from "../../plugins/rspamd/index.ts";

const ALICE = { address: "alice@example.test", password: "alice-pw-1" };
const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
let rs: Rspamd;
let srv: TestServer;

beforeAll(async () => {
  rs = await startRspamd();
  srv = await startTestServer({ users: [ALICE], plugins: [smtp, imap, rspamd], config: { rspamd: { url: rs.url, controllerUrl: rs.controllerUrl, timeout: 3 } } });
}, 90_000);
afterAll(async () => {
  await srv?.cleanup();
  await rs?.stop();
});

const send = (body: string) => swaks(srv.port("smtp"), ["--to", ALICE.address, "--from", "sender@remote.test", "--header", "Subject: rspamd test", "--body", body]);

async function until(what: () => Promise<boolean>, label: string): Promise<void> {
  const end = Date.now() + 15_000;
  while (!(await what())) {
    if (Date.now() > end) throw new Error(`timed out: ${label}`);
    await Bun.sleep(100);
  }
}

test("GTUBE is refused with rspamd's reason; a clean message passes with its score", async () => {
  const bad = await send(GTUBE);
  expect(bad.code).not.toBe(0);
  expect(bad.stdout).toContain("<** 554 5.7.1 Message refused as spam: Gtube pattern");
  const ok = await send("Just a note about lunch tomorrow.");
  expect(ok.code).toBe(0);
  const inbox = await mailbox(srv, ALICE.address);
  expect(inbox).toHaveLength(1);
  expect(inbox[0]).toMatch(/^X-Rspamd-Action: no action\r$/m);
  expect(inbox[0]).toMatch(/^X-Rspamd-Score: -?\d+\.\d\d \/ 15\.00\r$/m);
  expect((await rs.stat()).scanned).toBeGreaterThanOrEqual(2);
}, 60_000);

test("moving a message into Junk over IMAP calls learn_spam", async () => {
  const before = (await rs.stat()).learned;
  await python(
    `
import imaplib, sys
M = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
M.login(${JSON.stringify(ALICE.address)}, ${JSON.stringify(ALICE.password)})
M.select('INBOX')
typ, _ = M.uid('MOVE', '1', 'Junk')
assert typ == 'OK', typ
M.logout()
`,
    [String(srv.port("imap"))],
  );
  await until(async () => (await rs.stat()).learned === before + 1, "rspamd learned the message");
  expect(await mailbox(srv, ALICE.address, "Junk")).toHaveLength(1);
}, 60_000);

test("rspamd stopped: mail is still accepted, without a score", async () => {
  await rs.stop();
  const r = await send("Sent while rspamd is down.");
  expect(r.code).toBe(0);
  const inbox = await mailbox(srv, ALICE.address);
  const m = inbox.find((x) => x.includes("Sent while rspamd is down."));
  expect(m).toBeDefined();
  expect(m).not.toContain("X-Rspamd-");
}, 60_000);
