// The alias rules end to end: Python's smtplib talks SMTP to a running kotakpos with the
// aliases and smtp plugins; we look at the mailboxes and the spool afterwards.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { join } from "node:path";
import { spool } from "../../core/db/schema.ts";
import { aliases } from "../../plugins/aliases/schema.ts";
import aliasesPlugin from "../../plugins/aliases/index.ts";
import { addAlias, addDomainAlias, setCatchAll } from "../../plugins/aliases/admin.ts";
import { srsForward } from "../../plugins/aliases/srs.ts";
import { SRS_SECRET_KEY } from "../../plugins/aliases/secret.ts";
import smtpPlugin from "../../plugins/smtp/index.ts";
import { settings } from "../../core/db/schema.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

interface Reply2 {
  mail: [number, string];
  rcpts: [number, string][];
  data?: [number, string];
}

let s: TestServer;
const PW = "correct horse";
const users = ["alice", "bob", "carol", "dave"].map((u) => ({ address: `${u}@example.test`, password: PW }));

async function send(from: string, rcpts: string[], opts: { port?: "smtp" | "submission"; auth?: string } = {}): Promise<Reply2> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  if (opts.auth) Object.assign(env, { AUTH_USER: opts.auth, AUTH_PASS: PW });
  const p = Bun.spawn(["python3", join(import.meta.dir, "client.py"), String(s.port(opts.port ?? "smtp")), from, ...rcpts], { env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`client.py failed: ${err}`);
  return JSON.parse(out) as Reply2;
}

/** Subjects in a user's mailbox (by address and folder). */
async function count(user: string, mailbox = "INBOX"): Promise<number> {
  const acct = await s.core.store.getAccount(user);
  const mb = await s.core.store.getMailbox(acct!.id, mailbox);
  return (await s.core.store.messages(mb!.id)).length;
}

async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const u of users) out[u.address.split("@")[0]!] = await count(u.address);
  return out;
}

beforeAll(async () => {
  s = await startTestServer({
    plugins: [aliasesPlugin, smtpPlugin],
    domains: ["example.test", "bücher.test"],
    users: [...users, { address: "klaus@bücher.test", password: PW }],
    // Remote delivery fails fast (nothing answers DNS); the spool rows stay for inspection.
    config: { aliases: { tagFolder: true }, dns: { servers: ["127.0.0.1:9"], timeout: "1s" } },
  });
  const db = s.core;
  await addAlias(db, { address: "devs@example.test", targets: ["bob@example.test", "carol@example.test"], kind: "group" });
  await addAlias(db, { address: "team@example.test", targets: ["alice@example.test", "bob@example.test", "devs@example.test", "CAROL@example.test"], kind: "group" });
  await addAlias(db, { address: "board@example.test", targets: ["alice@example.test", "bob@example.test"], membersOnly: true });
  await addAlias(db, { address: "sales@example.test", targets: ["partner@remote.test", "dave@example.test"], senders: ["bob@example.test"] });
  await addDomainAlias(db, "example.org", "example.test");
  const bob = await s.core.store.getAccount("bob@example.test");
  await s.core.store.createMailbox(bob!.id, "Lists");
}, 30_000);
afterAll(() => s?.cleanup());

describe("aliases over SMTP", () => {
  test("a group reaches every member's INBOX exactly once, members overlapping", async () => {
    const before = await counts();
    const r = await send("sender@origin.test", ["team@example.test"]);
    expect(r.rcpts).toEqual([[250, expect.any(String)]]);
    expect(r.data?.[0]).toBe(250);
    const after = await counts();
    expect({ alice: after.alice! - before.alice!, bob: after.bob! - before.bob!, carol: after.carol! - before.carol!, dave: after.dave! - before.dave! }).toEqual({
      alice: 1,
      bob: 1,
      carol: 1,
      dave: 0,
    });
  });

  test("a loop is refused by the admin, and at RCPT with a clear 550 (no mail storm)", async () => {
    await addAlias(s.core, { address: "ping@example.test", targets: ["alice@example.test"] });
    await addAlias(s.core, { address: "pong@example.test", targets: ["ping@example.test"] });
    await expect(addAlias(s.core, { address: "ping@example.test", targets: ["pong@example.test"] })).rejects.toThrow("alias loop: ping@example.test -> pong@example.test -> ping@example.test");
    // A loop written behind the admin's back (an old database, a hand edit).
    await s.core.db.write((tx) =>
      tx.orm
        .update(aliases)
        .set({ targets: JSON.stringify(["pong@example.test"]) })
        .where(eq(aliases.address, "ping@example.test")),
    );
    const before = await counts();
    const r = await send("sender@origin.test", ["ping@example.test", "dave@example.test"]);
    expect(r.rcpts[0]![0]).toBe(550);
    expect(r.rcpts[0]![1]).toContain("5.4.6");
    expect(r.rcpts[0]![1]).toContain("alias loop");
    expect(r.rcpts[1]![0]).toBe(250);
    expect(r.data?.[0]).toBe(250);
    const after = await counts();
    expect(after.alice).toBe(before.alice!);
    expect(after.dave).toBe(before.dave! + 1);
  });

  test("plus-addressing: into the tag's folder when it exists, else INBOX; also via a domain alias", async () => {
    const lists = await count("bob@example.test", "Lists");
    const inbox = await count("bob@example.test");
    const r = await send("sender@origin.test", ["bob+lists@example.test", "Bob+Other@example.test"]);
    expect(r.rcpts.map((x) => x[0])).toEqual([250, 250]);
    expect(await count("bob@example.test", "Lists")).toBe(lists + 1);
    expect(await count("bob@example.test")).toBe(inbox + 1);
    expect((await send("sender@origin.test", ["bob+lists@example.org"])).rcpts[0]![0]).toBe(250);
    expect(await count("bob@example.test", "Lists")).toBe(lists + 2);
  });

  test("IDN: the punycode spelling reaches the UTF-8 domain's user", async () => {
    const before = await count("klaus@bücher.test");
    const r = await send("sender@origin.test", ["klaus@xn--bcher-kva.test"]);
    expect(r.rcpts[0]![0]).toBe(250);
    expect(await count("klaus@bücher.test")).toBe(before + 1);
  });

  test("catch-all only when enabled", async () => {
    expect((await send("sender@origin.test", ["nobody@example.test"])).rcpts[0]![0]).toBe(550);
    await setCatchAll(s.core, "example.test", ["carol@example.test"]);
    try {
      const before = await count("carol@example.test");
      const r = await send("sender@origin.test", ["nobody@example.test", "someone-else@example.org"]);
      expect(r.rcpts.map((x) => x[0])).toEqual([250, 250]);
      expect(await count("carol@example.test")).toBe(before + 1); // two recipients, one account: one copy
    } finally {
      await s.core.db.write((tx) => tx.orm.delete(aliases).where(eq(aliases.address, "@example.test")));
    }
    expect((await send("sender@origin.test", ["nobody@example.test"])).rcpts[0]![0]).toBe(550);
  });

  test("members only: an outsider gets 550 5.7.1, a member posts", async () => {
    const out = await send("stranger@origin.test", ["board@example.test"]);
    expect(out.rcpts[0]![0]).toBe(550);
    expect(out.rcpts[0]![1]).toContain("5.7.1");
    const inn = await send("Alice@example.test", ["board@example.test"]);
    expect(inn.rcpts[0]![0]).toBe(250);
  });

  test("a forward to another domain is spooled with an SRS sender; a bounce to it is reversed", async () => {
    const before = await count("dave@example.test");
    const r = await send("sender@origin.test", ["sales@example.test"]);
    expect(r.rcpts[0]![0]).toBe(250);
    expect(r.data?.[0]).toBe(250);
    expect(await count("dave@example.test")).toBe(before + 1);
    const rows = await s.core.db.orm.select().from(spool).where(eq(spool.recipient, "partner@remote.test"));
    expect(rows).toHaveLength(1);
    const srsAddr = rows[0]!.mailFrom;
    expect(srsAddr).toMatch(/^SRS0=[a-z2-7]{6}=[a-z2-7]{2}=origin\.test=sender@example\.test$/);

    // The remote side bounces to the SRS address: it goes back to the original sender.
    const b = await send("", [srsAddr]);
    expect(b.rcpts[0]![0]).toBe(250);
    expect(b.data?.[0]).toBe(250);
    const back = await s.core.db.orm.select().from(spool).where(eq(spool.recipient, "sender@origin.test"));
    expect(back).toHaveLength(1);
    expect(back[0]!.mailFrom).toBe("");

    // Forged or expired SRS addresses are refused.
    const [secret] = await s.core.db.orm.select().from(settings).where(eq(settings.key, SRS_SECRET_KEY));
    const forged = srsForward("victim@origin.test", "example.test", { secret: "guess", maxAgeDays: 21 });
    const old = srsForward("victim@origin.test", "example.test", { secret: secret!.value, maxAgeDays: 21, now: () => Date.now() - 40 * 86_400_000 });
    const f = await send("", [forged, old]);
    expect(f.rcpts.map((x) => x[0])).toEqual([550, 550]);
    expect(f.rcpts[0]![1]).toContain("bad signature");
    expect(f.rcpts[1]![1]).toContain("expired");
    expect(await s.core.db.orm.select().from(spool).where(eq(spool.recipient, "victim@origin.test"))).toHaveLength(0);
  });

  test("send-as: a granted alias is accepted on submission, others refused", async () => {
    const ok = await send("sales@example.test", ["dave@example.test"], { port: "submission", auth: "bob@example.test" });
    expect(ok.mail[0]).toBe(250);
    expect(ok.data?.[0]).toBe(250);
    const no = await send("sales@example.test", ["dave@example.test"], { port: "submission", auth: "carol@example.test" });
    expect(no.mail[0]).toBeGreaterThanOrEqual(500);
    const own = await send("carol+x@example.org", ["dave@example.test"], { port: "submission", auth: "carol@example.test" });
    expect(own.mail[0]).toBe(250);
  });
});
