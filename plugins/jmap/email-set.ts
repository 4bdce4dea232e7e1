// Email/set (RFC 8621 §4.6): keywords and mailboxIds updates (one mailbox per email:
// maxMailboxesPerEmail = 1; a new mailbox is a store MOVE, so the id stays), destroy, and
// drafts created from parts (composed with nodemailer's MailComposer).
import MailComposer from "nodemailer/lib/mail-composer";
import { emailObjectId, mailboxObjectId, parseObjectId, threadObjectId } from "../../core/store/ids.ts";
import type { Mailbox, MessageMeta } from "../../core/store/types.ts";
import type { Uploads } from "./blobs.ts";
import { readBlob } from "./blobs.ts";
import { emailBlobId } from "./email.ts";
import { MethodError, setError, type SetError } from "./errors.ts";
import { ownAccount, resolveId, stateOf, type Method, type MethodCtx } from "./context.ts";
import { SetOutcome, setArgs } from "./standard.ts";

const SYSTEM: Record<string, string> = { $seen: "\\Seen", $answered: "\\Answered", $flagged: "\\Flagged", $draft: "\\Draft" };
const KEYWORD = /^[\x21-\x7e]{1,255}$/;

/** JMAP keywords → IMAP flags (keeping \Deleted, which JMAP does not show). */
export function flagsOf(keywords: Record<string, unknown>, current: string[]): string[] | SetError {
  const out = current.includes("\\Deleted") ? ["\\Deleted"] : [];
  for (const [k, v] of Object.entries(keywords)) {
    if (v !== true || !KEYWORD.test(k) || /[(){\]%*"\\]/.test(k)) return setError("invalidProperties", `bad keyword ${k}`, ["keywords"]);
    out.push(SYSTEM[k.toLowerCase()] ?? k.toLowerCase());
  }
  return out;
}

function currentKeywords(m: MessageMeta): Record<string, true> {
  const out: Record<string, true> = {};
  for (const f of m.flags) if (f !== "\\Deleted") out[f.startsWith("\\") ? "$" + f.slice(1).toLowerCase() : f.toLowerCase()] = true;
  return out;
}

/** Applies a PatchObject (RFC 8620 §5.3) to keywords / mailboxIds. */
function patched(m: MessageMeta, patch: Record<string, unknown>, ctx: MethodCtx): { keywords?: Record<string, unknown>; mailboxIds?: Record<string, unknown> } | SetError {
  const out: { keywords?: Record<string, unknown>; mailboxIds?: Record<string, unknown> } = {};
  for (const [path, v] of Object.entries(patch)) {
    const [head, ...rest] = path.split("/");
    if (head !== "keywords" && head !== "mailboxIds") return setError("invalidProperties", `${head} cannot be changed`, [head!]);
    if (rest.length === 0) {
      if (!v || typeof v !== "object" || Array.isArray(v)) return setError("invalidProperties", `${head} must be an object`, [head]);
      out[head] = { ...(v as Record<string, unknown>) };
      continue;
    }
    if (rest.length !== 1) return setError("invalidPatch", `bad path ${path}`);
    const key = rest[0]!.replace(/~1/g, "/").replace(/~0/g, "~");
    const base = (out[head] ??= head === "keywords" ? currentKeywords(m) : { [mailboxObjectId(m.mailboxId)]: true });
    if (v === null) delete base[key];
    else if (v === true) base[key] = true;
    else return setError("invalidPatch", `${path} must be true or null`);
  }
  void ctx;
  return out;
}

async function update(ctx: MethodCtx, accountId: number, m: MessageMeta, patch: Record<string, unknown>): Promise<SetError | null> {
  const p = patched(m, patch, ctx);
  if ("type" in p) return p as SetError;
  const store = ctx.core.store;
  let target = m.mailboxId;
  if (p.mailboxIds) {
    const ids = Object.entries(p.mailboxIds)
      .filter(([, v]) => v === true)
      .map(([k]) => parseObjectId("m", resolveId(k, ctx)));
    if (ids.length !== 1) return setError("tooManyMailboxes", "an email is in exactly one mailbox here (maxMailboxesPerEmail 1)", ["mailboxIds"]);
    const mb = ids[0] === null ? null : await store.getMailboxById(ids[0]!);
    if (!mb || mb.accountId !== accountId) return setError("invalidProperties", "no such mailbox", ["mailboxIds"]);
    target = mb.id;
  }
  let uid = m.uid;
  let mailboxId = m.mailboxId;
  if (p.keywords) {
    const flags = flagsOf(p.keywords, m.flags);
    if (!Array.isArray(flags)) return flags;
    await store.setFlags(mailboxId, [uid], "set", flags, { origin: "jmap" });
  }
  if (target !== mailboxId) {
    const r = await store.move(mailboxId, [uid], target, { origin: "jmap" });
    if (!r.map.length) return setError("notFound", "the email is gone");
    uid = r.map[0]![1];
    mailboxId = target;
  }
  return null;
}

/** Where a new email goes (Email/set create, Email/import): its one mailbox of this
 *  account and its flags from the keywords. */
export async function newEmailTarget(ctx: MethodCtx, accountId: number, o: Record<string, unknown>): Promise<{ mb: Mailbox; flags: string[] } | SetError> {
  const mids = Object.entries((o.mailboxIds ?? {}) as Record<string, unknown>)
    .filter(([, v]) => v === true)
    .map(([k]) => parseObjectId("m", resolveId(k, ctx)));
  if (mids.length !== 1) return setError(mids.length > 1 ? "tooManyMailboxes" : "invalidProperties", "exactly one mailbox", ["mailboxIds"]);
  const mb = mids[0] === null ? null : await ctx.core.store.getMailboxById(mids[0]!);
  if (!mb || mb.accountId !== accountId) return setError("invalidProperties", "no such mailbox", ["mailboxIds"]);
  const flags = flagsOf((o.keywords ?? {}) as Record<string, unknown>, []);
  return Array.isArray(flags) ? { mb, flags } : flags;
}

type Composer = NonNullable<ConstructorParameters<typeof MailComposer>[0]>;

/** A draft from its JMAP properties (RFC 8621 §4.6 create). */
async function compose(ctx: MethodCtx, accountId: number, o: Record<string, unknown>, uploads: Uploads): Promise<Uint8Array | SetError> {
  const addr = (v: unknown) => (Array.isArray(v) ? v.map((a: { name?: string | null; email?: string }) => ({ name: a?.name ?? "", address: String(a?.email ?? "") })) : undefined);
  const values = (o.bodyValues ?? {}) as Record<string, { value?: string }>;
  const text = async (parts: unknown): Promise<string | undefined | SetError> => {
    if (!Array.isArray(parts) || !parts.length) return undefined;
    const p = parts[0] as { partId?: string; blobId?: string };
    if (p.partId !== undefined) {
      const v = values[p.partId]?.value;
      if (typeof v !== "string") return setError("invalidProperties", `no bodyValue for part ${p.partId}`, ["bodyValues"]);
      return v;
    }
    if (p.blobId) {
      const b = await readBlob(ctx.core.store, uploads, accountId, p.blobId);
      if (!b) return setError("blobNotFound", "no such blob", ["textBody"]);
      return new TextDecoder().decode(b);
    }
    return undefined;
  };
  const textBody = await text(o.textBody);
  const htmlBody = await text(o.htmlBody);
  if (typeof textBody === "object") return textBody;
  if (typeof htmlBody === "object") return htmlBody;
  const attachments: NonNullable<Composer["attachments"]> = [];
  const notFound: string[] = [];
  for (const a of (Array.isArray(o.attachments) ? o.attachments : []) as { blobId?: string; type?: string; name?: string; disposition?: string; cid?: string }[]) {
    const b = a?.blobId ? await readBlob(ctx.core.store, uploads, accountId, a.blobId) : null;
    if (!b) {
      notFound.push(String(a?.blobId));
      continue;
    }
    attachments.push({
      content: Buffer.from(b),
      contentType: a.type ?? "application/octet-stream",
      ...(a.name && { filename: a.name }),
      ...(a.cid && { cid: a.cid }),
      contentDisposition: a.disposition === "inline" ? "inline" : "attachment",
    });
  }
  if (notFound.length) return { ...setError("blobNotFound", "no such blob"), notFound };
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    const m = /^header:([!-9;-~]+)(?::asText)?$/.exec(k);
    if (m && typeof v === "string") headers[m[1]!] = v;
  }
  const opts: Composer = {
    from: addr(o.from),
    to: addr(o.to),
    cc: addr(o.cc),
    bcc: addr(o.bcc),
    replyTo: addr(o.replyTo),
    sender: addr(o.sender)?.[0],
    subject: typeof o.subject === "string" ? o.subject : undefined,
    date: typeof o.sentAt === "string" ? new Date(o.sentAt) : new Date(),
    ...(Array.isArray(o.messageId) && o.messageId[0] && { messageId: `<${o.messageId[0]}>` }),
    ...(Array.isArray(o.inReplyTo) && { inReplyTo: o.inReplyTo.map((x) => `<${x}>`).join(" ") }),
    ...(Array.isArray(o.references) && { references: o.references.map((x) => `<${x}>`).join(" ") }),
    text: textBody,
    html: htmlBody,
    attachments,
    headers,
    keepBcc: true,
  };
  const raw = await new MailComposer(opts).compile().build();
  return new Uint8Array(raw);
}

const CREATE_OK = new Set([
  "mailboxIds",
  "keywords",
  "receivedAt",
  "from",
  "to",
  "cc",
  "bcc",
  "replyTo",
  "sender",
  "subject",
  "sentAt",
  "messageId",
  "inReplyTo",
  "references",
  "textBody",
  "htmlBody",
  "attachments",
  "bodyValues",
]);

export function emailSetMethods(uploads: Uploads): Record<string, Method> {
  const set: Method = async (args, ctx) => {
    const accountId = await ownAccount(args, ctx);
    const store = ctx.core.store;
    const oldState = await stateOf(ctx, accountId);
    const { create, update: upd, destroy } = setArgs(args, ctx, oldState);
    const out = new SetOutcome();
    const { created, notCreated, updated, notUpdated, destroyed, notDestroyed } = out;

    for (const [cid, o] of Object.entries(create)) {
      if (!o || typeof o !== "object") {
        notCreated[cid] = setError("invalidProperties", "not an object");
        continue;
      }
      const bad = Object.keys(o).filter((k) => !CREATE_OK.has(k) && !/^header:/.test(k));
      if (bad.length) {
        notCreated[cid] = setError("invalidProperties", "cannot be set", bad);
        continue;
      }
      const target = await newEmailTarget(ctx, accountId, o);
      if ("type" in target) {
        notCreated[cid] = target;
        continue;
      }
      const { mb, flags } = target;
      const raw = await compose(ctx, accountId, o, uploads);
      if (!(raw instanceof Uint8Array)) {
        notCreated[cid] = raw;
        continue;
      }
      const receivedAt = typeof o.receivedAt === "string" ? Date.parse(o.receivedAt) : Date.now();
      const r = await store.append(mb.id, raw, { flags, internalDate: Number.isNaN(receivedAt) ? Date.now() : receivedAt, origin: "jmap" });
      const id = emailObjectId(r.emailId);
      ctx.createdIds.set(cid, id);
      created[cid] = { id, blobId: emailBlobId(r.emailId), threadId: threadObjectId(r.threadId), size: raw.length };
    }

    for (const [rawId, patch] of Object.entries(upd)) {
      const id = String(resolveId(rawId, ctx));
      const n = parseObjectId("e", id);
      const [m] = n === null ? [] : await store.emailsById(accountId, [n]);
      if (!m) {
        notUpdated[rawId] = setError("notFound");
        continue;
      }
      if (!patch || typeof patch !== "object") {
        notUpdated[rawId] = setError("invalidPatch", "not an object");
        continue;
      }
      const err = await update(ctx, accountId, m, patch);
      if (err) notUpdated[rawId] = err;
      else updated[rawId] = null;
    }

    for (const rawId of destroy) {
      const n = parseObjectId("e", resolveId(rawId, ctx));
      const [m] = n === null ? [] : await store.emailsById(accountId, [n]);
      if (!m) {
        notDestroyed[rawId] = setError("notFound");
        continue;
      }
      await store.remove(m.mailboxId, [m.uid], { origin: "jmap" });
      destroyed.push(rawId);
    }
    return out.response(args.accountId, oldState, await stateOf(ctx, accountId));
  };
  return { "Email/set": set };
}
