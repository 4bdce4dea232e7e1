// Disabling or deleting an account ends its open sessions (store.onAccountGone): IMAP with
// `* BYE` (RFC 9051 §7.1.5), POP3 with -ERR, SMTP submission with 421 4.7.0 — checked on
// the wire with python imaplib, poplib and smtplib, the change made through the CLI over
// the running server's control socket. Another account's sessions stay open.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { PY, startImap, USERS } from "../helpers/imap.ts";
import type { TestServer } from "../helpers/server.ts";
import { runCli } from "../helpers/cli.ts";
import { controlSocketPath } from "../../core/cli/context.ts";
import { startControlServer, type ControlServer } from "../../core/control/server.ts";
import { createLogger } from "../../core/log.ts";

let srv: TestServer;
let control: ControlServer | null;

beforeAll(async () => {
  srv = await startImap();
  await srv.core.store.createAccount("carol@example.test", "carol-pw-3");
  control = await startControlServer({ path: controlSocketPath(srv.dataDir), api: srv.admin, log: createLogger("error") });
});

afterAll(async () => {
  await control?.close();
  await srv.cleanup();
});

// Logs in (IMAP in IDLE, POP3, submission) as the victim and IMAP as the bystander, prints
// READY, waits for a line on stdin (the account is changed meanwhile), then reports what
// each connection saw and whether a new login of the victim still works.
const SCRIPT = `
import imaplib, poplib, smtplib, sys, json, socket
imap_port, pop_port, sub_port, victim, vpw, other, opw = sys.argv[1:]
idle = imaplib.IMAP4("127.0.0.1", int(imap_port)); idle.login(victim, vpw); idle.select("INBOX")
tag = idle._new_tag().decode(); idle.send(f"{tag} IDLE\\r\\n".encode())
assert idle.readline().startswith(b"+"), "no IDLE continuation"
pop = poplib.POP3("127.0.0.1", int(pop_port), timeout=10); pop.user(victim); pop.pass_(vpw)
sub = smtplib.SMTP("127.0.0.1", int(sub_port), timeout=10); sub.ehlo("client.test"); sub.login(victim, vpw)
byst = imaplib.IMAP4("127.0.0.1", int(imap_port)); byst.login(other, opw); byst.select("INBOX")
print("READY", flush=True)
sys.stdin.readline()
out = {}
idle.sock.settimeout(10)
out["imap"] = [idle.readline().decode().strip(), idle.readline().decode()]
pop.sock.settimeout(10)
out["pop3"] = [pop.file.readline().decode().strip(), pop.file.readline().decode()]
sub.sock.settimeout(10)
try:
    out["smtp"] = list(sub.getreply()); out["smtp"][1] = out["smtp"][1].decode()
    out["smtp"].append(sub.sock.recv(100).decode())
except Exception as e:
    out["smtp"] = ["exc", type(e).__name__]
out["bystander"] = byst.noop()[0]
try:
    imaplib.IMAP4("127.0.0.1", int(imap_port)).login(victim, vpw); out["imapRelogin"] = "OK"
except imaplib.IMAP4.error as e:
    out["imapRelogin"] = "NO"
try:
    p = poplib.POP3("127.0.0.1", int(pop_port), timeout=10); p.user(victim); p.pass_(vpw); out["popRelogin"] = "OK"
except poplib.error_proto as e:
    out["popRelogin"] = e.args[0].decode()
byst.logout()
print(json.dumps(out), flush=True)
`;

async function sessionsAcross(victim: { address: string; password: string }, change: () => Promise<void>): Promise<Record<string, unknown>> {
  const other = USERS[1]!;
  const args = [String(srv.port("imap")), String(srv.port("pop3")), String(srv.port("submission")), victim.address, victim.password, other.address, other.password];
  const p = Bun.spawn([PY, "-c", SCRIPT, ...args], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill(), 30_000);
  try {
    const reader = p.stdout.getReader();
    let out = "";
    while (!out.includes("READY\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`python ended early: ${out}${await new Response(p.stderr).text()}`);
      out += new TextDecoder().decode(value);
    }
    await change();
    p.stdin.write("go\n");
    await p.stdin.end();
    out = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    if ((await p.exited) !== 0) throw new Error(`python failed: ${await new Response(p.stderr).text()}`);
    return JSON.parse(out) as Record<string, unknown>;
  } finally {
    clearTimeout(timer);
    p.kill(); // no-op once exited; a failed assertion above leaves no python behind
  }
}

test("`kotakpos user disable` ends the account's IMAP IDLE, POP3 and submission sessions; others stay; new logins refused", async () => {
  const victim = USERS[0]!;
  const r = await sessionsAcross(victim, async () => {
    expect((await runCli(srv.dataDir, ["user", "disable", victim.address])).code).toBe(0);
  });
  expect(r.imap).toEqual(["* BYE Account disabled", ""]); // BYE, then EOF
  expect(r.pop3).toEqual(["-ERR [AUTH] Account disabled, closing connection", ""]);
  expect(r.smtp).toEqual([421, "4.7.0 Account disabled, closing connection", ""]);
  expect(r.bystander).toBe("OK");
  expect(r.imapRelogin).toBe("NO");
  expect(String(r.popRelogin)).toStartWith("-ERR");
  expect((await runCli(srv.dataDir, ["user", "enable", victim.address])).code).toBe(0);
}, 60_000);

test("deleting an account ends its sessions too", async () => {
  const r = await sessionsAcross({ address: "carol@example.test", password: "carol-pw-3" }, async () => {
    expect(await srv.admin.deleteAccount("carol@example.test")).toBe(true);
  });
  expect(r.imap).toEqual(["* BYE Account deleted", ""]);
  expect(r.pop3).toEqual(["-ERR [AUTH] Account deleted, closing connection", ""]);
  expect(r.bystander).toBe("OK");
  expect(r.imapRelogin).toBe("NO");
}, 60_000);
