// VacationResponse/get, /set (RFC 8621 §8) and the auto-reply at local delivery, by the
// rules of RFC 3834: at most one reply per sender per REPLY_DAYS; never to the null
// sender, to bounces or other auto-generated mail, to mailing lists or bulk mail; sent
// from the null reverse-path with Auto-Submitted: auto-replied.
import { eq } from "drizzle-orm";
import MailComposer from "nodemailer/lib/mail-composer";
import { jmapVacation } from "./schema.ts";
import type { StoreChange } from "../../core/store/types.ts";
import type { Core, SmtpTxn, TxnState } from "../../core/types.ts";
import { requestConnection } from "./auth.ts";
import { MethodError, setError } from "./errors.ts";
import { asAddresses, asMessageIds, asText, rawFields, type RawField } from "./headers.ts";
import { ownAccount, type Method } from "./context.ts";
import { routeAll, splitAddress } from "./submission.ts";

/** RFC 3834 §2: "SHOULD NOT" reply to the same sender more often than this (default 7). */
export const REPLY_DAYS = 7;
const PROPS = ["id", "isEnabled", "fromDate", "toDate", "subject", "textBody", "htmlBody"] as const;
type Vacation = typeof jmapVacation.$inferSelect;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z"));

async function load(core: Core, accountId: number): Promise<Vacation> {
  const r = await core.db.orm.select().from(jmapVacation).where(eq(jmapVacation.accountId, accountId));
  return r[0] ?? { accountId, isEnabled: false, fromDate: null, toDate: null, subject: null, textBody: null, htmlBody: null };
}

const toJson = (v: Vacation) => ({ id: "singleton", isEnabled: v.isEnabled, fromDate: iso(v.fromDate), toDate: iso(v.toDate), subject: v.subject, textBody: v.textBody, htmlBody: v.htmlBody });

/** The state: a hash of the settings (they are one small row). */
const stateOf = (v: Vacation) =>
  "v" +
  new Bun.CryptoHasher("sha256")
    .update(JSON.stringify(toJson(v)))
    .digest("hex")
    .slice(0, 12);

const get: Method = async (args, ctx) => {
  const accountId = await ownAccount(args, ctx);
  const v = await load(ctx.core, accountId);
  const ids = args.ids === undefined || args.ids === null ? ["singleton"] : (args.ids as string[]);
  const props = (args.properties as string[] | undefined) ?? [...PROPS];
  const obj = toJson(v) as Record<string, unknown>;
  return {
    accountId: args.accountId,
    state: stateOf(v),
    list: ids.includes("singleton") ? [Object.fromEntries(["id", ...props].map((p) => [p, obj[p]]))] : [],
    notFound: ids.filter((i) => i !== "singleton"),
  };
};

const set: Method = async (args, ctx) => {
  const accountId = await ownAccount(args, ctx);
  const cur = await load(ctx.core, accountId);
  const oldState = stateOf(cur);
  if (args.ifInState !== undefined && args.ifInState !== null && args.ifInState !== oldState) throw new MethodError("stateMismatch", "ifInState does not match");
  const notCreated = Object.fromEntries(Object.keys((args.create ?? {}) as object).map((k) => [k, setError("singleton", "VacationResponse is a singleton")]));
  const notDestroyed = Object.fromEntries(((args.destroy ?? []) as string[]).map((k) => [k, setError("singleton", "VacationResponse is a singleton")]));
  const updated: Record<string, null> = {};
  const notUpdated: Record<string, ReturnType<typeof setError>> = {};
  for (const [id, patch] of Object.entries((args.update ?? {}) as Record<string, Record<string, unknown>>)) {
    if (id !== "singleton") {
      notUpdated[id] = setError("notFound");
      continue;
    }
    const next = { ...cur };
    const bad: string[] = [];
    for (const [k, val] of Object.entries(patch ?? {})) {
      if (k === "isEnabled" && typeof val === "boolean") next.isEnabled = val;
      else if ((k === "fromDate" || k === "toDate") && (val === null || (typeof val === "string" && !Number.isNaN(Date.parse(val))))) next[k] = val === null ? null : Date.parse(val as string);
      else if ((k === "subject" || k === "textBody" || k === "htmlBody") && (val === null || typeof val === "string")) next[k] = val as string | null;
      else bad.push(k);
    }
    if (bad.length) {
      notUpdated[id] = setError("invalidProperties", "bad values", bad);
      continue;
    }
    await ctx.core.db.write(async (tx) => {
      await tx.orm
        .insert(jmapVacation)
        .values(next)
        .onConflictDoUpdate({
          target: jmapVacation.accountId,
          set: { isEnabled: next.isEnabled, fromDate: next.fromDate, toDate: next.toDate, subject: next.subject, textBody: next.textBody, htmlBody: next.htmlBody },
        });
      // New settings, new period: everyone may get the (new) reply once again.
      await tx.execute({ sql: "DELETE FROM jmap_vacation_sent WHERE account_id = ?", args: [accountId] });
    });
    updated[id] = null;
  }
  const orNull = <T extends object>(o: T) => (Object.keys(o).length ? o : null);
  return {
    accountId: args.accountId,
    oldState,
    newState: stateOf(await load(ctx.core, accountId)),
    created: null,
    updated: orNull(updated),
    destroyed: null,
    notCreated: orNull(notCreated),
    notUpdated: orNull(notUpdated),
    notDestroyed: orNull(notDestroyed),
  };
};

export const vacationMethods: Record<string, Method> = { "VacationResponse/get": get, "VacationResponse/set": set };

const field = (fields: RawField[], name: string) => fields.find((f) => f.name.toLowerCase() === name)?.value;

/** RFC 3834 §2 and §3.1: why not to answer this message, or null to answer `to`. */
export function replyTarget(fields: RawField[]): { to: string } | { skip: string } {
  const rp = field(fields, "return-path");
  if (rp === undefined) return { skip: "no Return-Path" };
  const sender = /<([^<>]*)>/.exec(rp)?.[1]?.trim() ?? rp.trim();
  if (!sender) return { skip: "null sender" };
  const auto = field(fields, "auto-submitted");
  if (auto !== undefined && asText(auto).toLowerCase() !== "no") return { skip: "auto-submitted" };
  if (fields.some((f) => /^list-/i.test(f.name))) return { skip: "mailing list" };
  const prec = field(fields, "precedence");
  if (prec && /^(bulk|list|junk)$/i.test(asText(prec))) return { skip: "bulk precedence" };
  if (field(fields, "x-auto-response-suppress") !== undefined || field(fields, "x-autoreply") !== undefined) return { skip: "auto-reply suppressed" };
  const local = sender.slice(0, sender.lastIndexOf("@")).toLowerCase();
  if (/^(mailer-daemon|postmaster|listserv|majordomo|owner-.*|.*-request|.*-owner|.*-bounces?|no-?reply)$/.test(local)) return { skip: "automated sender" };
  return { to: sender };
}

/** Answers mail delivered to accounts with an enabled VacationResponse. */
export function startVacation(core: Core): () => void {
  const queue: StoreChange[] = [];
  let running = false;
  const work = async () => {
    if (running) return;
    running = true;
    try {
      for (let ev = queue.shift(); ev; ev = queue.shift()) await answer(core, ev).catch((e) => core.log.warn("vacation reply failed", { err: (e as Error).message }));
    } finally {
      running = false;
    }
  };
  return core.store.onChange((ev) => {
    if (ev.kind !== "append" || !ev.delivered) return;
    queue.push(ev);
    void work();
  });
}

async function answer(core: Core, ev: StoreChange): Promise<void> {
  const v = await load(core, ev.accountId);
  const now = Date.now();
  if (!v.isEnabled || (v.fromDate !== null && now < v.fromDate) || (v.toDate !== null && now >= v.toDate)) return;
  const mb = await core.store.getMailboxById(ev.mailboxId);
  if (!mb || mb.specialUse === "\\Junk") return; // never answer what was filed as junk
  const account = await core.store.getAccountById(ev.accountId);
  if (!account) return;
  for (const m of await core.store.messages(ev.mailboxId, { uids: ev.uids })) {
    const bytes = await core.store.read(m);
    const fields = rawFields(bytes, m.structure.headerStart, m.structure.bodyStart);
    const t = replyTarget(fields);
    if ("skip" in t) {
      core.log.debug("vacation: no reply", { account: account.address, reason: t.skip });
      continue;
    }
    if (t.to.toLowerCase() === account.address) continue; // never to ourselves
    // One reply per sender per period: the insert wins only once (RFC 3834 §2).
    const claimed = await core.db.write(async (tx) => {
      const r = await tx.execute({
        sql: `INSERT INTO jmap_vacation_sent(account_id, sender, sent_at) VALUES (?, ?, ?)
              ON CONFLICT(account_id, sender) DO UPDATE SET sent_at = excluded.sent_at WHERE jmap_vacation_sent.sent_at < ?`,
        args: [ev.accountId, t.to.toLowerCase(), now, now - REPLY_DAYS * 86_400_000],
      });
      return r.rowsAffected > 0;
    });
    if (!claimed) continue;
    const subj = field(fields, "subject");
    const msgId = asMessageIds(field(fields, "message-id") ?? "")?.[0];
    const refs = [...(asMessageIds(field(fields, "references") ?? "") ?? []), ...(msgId ? [msgId] : [])];
    const raw = await new MailComposer({
      from: account.address,
      to: t.to,
      subject: v.subject ?? `Auto: ${subj ? asText(subj) : "(no subject)"}`,
      text: v.textBody ?? (v.htmlBody ? undefined : "I am away and will read your message later."),
      html: v.htmlBody ?? undefined,
      ...(msgId && { inReplyTo: `<${msgId}>`, references: refs.map((x) => `<${x}>`).join(" ") }),
      headers: { "Auto-Submitted": "auto-replied" },
    })
      .compile()
      .build();
    const from = splitAddress(account.address)!;
    const txn: SmtpTxn = {
      id: `vac${now.toString(36)}`,
      conn: requestConnection(core, "local", 0, false),
      helo: "vacation",
      user: { accountId: account.id, address: account.address },
      mailFrom: { ...from, address: "" },
      rcpts: [],
      state: {} as TxnState,
    };
    const routed = await routeAll(core, txn, [t.to]);
    if ("invalid" in routed) continue;
    const to = asAddresses(t.to)[0]?.email ?? t.to;
    // RFC 3834 §3.1.5: from the null reverse-path, so no reply or bounce comes back.
    await core.spool.accept({ raw: new Uint8Array(raw), prefix: routed.remote.length ? [] : ["Return-Path: <>\r\n"], mailFrom: "", local: routed.local, remote: routed.remote });
    core.log.info("vacation reply sent", { account: account.address, to });
  }
}
