// Email/import (RFC 8621 §4.8), Email/copy (§4.7), Email/parse (§4.9) and SearchSnippet/get
// (§5).
import { analyze } from "../../core/mime/index.ts";
import { emailObjectId, parseObjectId, threadObjectId } from "../../core/store/ids.ts";
import { bodyTexts } from "../../core/store/query.ts";
import type { MessageMeta } from "../../core/store/types.ts";
import { readBlob, type Uploads } from "./blobs.ts";
import { bodyOptions, DEFAULT_PROPS, emailBlobId, emailJson, validProperty } from "./email.ts";
import { toCondition } from "./email-query.ts";
import { newEmailTarget } from "./email-set.ts";
import { MethodError, setError, type SetError } from "./errors.ts";
import { ownAccount, resolveId, stateOf, stringArray, type Method } from "./context.ts";

const PARSE_DEFAULT = DEFAULT_PROPS.filter((p) => !["id", "blobId", "threadId", "mailboxIds", "keywords", "size", "receivedAt"].includes(p));

export function moreEmailMethods(uploads: Uploads): Record<string, Method> {
  const importEmails: Method = async (args, ctx) => {
    const accountId = await ownAccount(args, ctx);
    const store = ctx.core.store;
    const oldState = await stateOf(ctx, accountId);
    if (args.ifInState !== undefined && args.ifInState !== null && args.ifInState !== oldState) throw new MethodError("stateMismatch", "ifInState does not match");
    const emails = args.emails as Record<string, Record<string, unknown>> | undefined;
    if (!emails || typeof emails !== "object") throw new MethodError("invalidArguments", "emails must be an object");
    if (Object.keys(emails).length > ctx.cfg.maxObjectsInSet) throw new MethodError("requestTooLarge", `at most ${ctx.cfg.maxObjectsInSet}`);
    const created: Record<string, unknown> = {};
    const notCreated: Record<string, SetError> = {};
    for (const [cid, o] of Object.entries(emails)) {
      const bytes = typeof o?.blobId === "string" ? await readBlob(store, uploads, accountId, String(resolveId(o.blobId, ctx))) : null;
      if (!bytes) {
        notCreated[cid] = setError("blobNotFound", "no such blob", ["blobId"]);
        continue;
      }
      const target = await newEmailTarget(ctx, accountId, o);
      if ("type" in target) {
        notCreated[cid] = target;
        continue;
      }
      const { mb, flags } = target;
      const at = typeof o.receivedAt === "string" ? Date.parse(o.receivedAt) : Date.now();
      const r = await store.append(mb.id, bytes, { flags, internalDate: Number.isNaN(at) ? Date.now() : at, origin: "jmap" });
      const id = emailObjectId(r.emailId);
      ctx.createdIds.set(cid, id);
      created[cid] = { id, blobId: emailBlobId(r.emailId), threadId: threadObjectId(r.threadId), size: bytes.length };
    }
    return {
      accountId: args.accountId,
      oldState,
      newState: await stateOf(ctx, accountId),
      created: Object.keys(created).length ? created : null,
      notCreated: Object.keys(notCreated).length ? notCreated : null,
    };
  };

  /** Each user has one account here, and /copy is between two different accounts
   *  (RFC 8620 §5.4): the checks say which rule a call breaks. */
  const copy: Method = async (args, ctx) => {
    const to = await ownAccount(args, ctx);
    const from = await ownAccount(args, ctx, "fromAccountId");
    if (from === to) throw new MethodError("invalidArguments", "fromAccountId and accountId must differ (use Email/set to file an email elsewhere)");
    throw new MethodError("fromAccountNotFound", "no other account is accessible");
  };

  const parse: Method = async (args, ctx) => {
    const accountId = await ownAccount(args, ctx);
    const blobIds = stringArray(args.blobIds, "blobIds", ctx.cfg.maxObjectsInGet);
    const properties = args.properties === undefined || args.properties === null ? PARSE_DEFAULT : stringArray(args.properties, "properties");
    const bad = properties.filter((p) => !validProperty(p) || ["id", "threadId", "mailboxIds", "keywords", "receivedAt"].includes(p));
    if (bad.length) throw new MethodError("invalidArguments", `not for Email/parse: ${bad.join(", ")}`);
    const opts = bodyOptions(args);
    const parsed: Record<string, unknown> = {};
    const notParsable: string[] = [];
    const notFound: string[] = [];
    for (const blobId of blobIds) {
      const bytes = await readBlob(ctx.core.store, uploads, accountId, blobId);
      if (!bytes) {
        notFound.push(blobId);
        continue;
      }
      try {
        const a = analyze(bytes);
        const meta = {
          ...a,
          id: 0,
          mailboxId: 0,
          uid: 0,
          modseq: 0,
          flags: [],
          internalDate: 0,
          size: bytes.length,
          blobId: "",
          prefixSize: 0,
          emailId: 0,
          threadId: 0,
          createdModseq: 0,
          savedAt: 0,
        } satisfies MessageMeta;
        const out = await emailJson(ctx, meta, properties, opts, { bytes, blobId });
        parsed[blobId] = { ...out, ...(properties.includes("blobId") && { blobId }) };
      } catch {
        notParsable.push(blobId);
      }
    }
    return { accountId: args.accountId, parsed: Object.keys(parsed).length ? parsed : null, notParsable: notParsable.length ? notParsable : null, notFound: notFound.length ? notFound : null };
  };

  const snippets: Method = async (args, ctx) => {
    const accountId = await ownAccount(args, ctx);
    const emailIds = stringArray(args.emailIds, "emailIds", ctx.cfg.maxObjectsInGet);
    const terms: string[] = [];
    const collect = (f: unknown) => {
      if (!f || typeof f !== "object") return;
      const o = f as Record<string, unknown>;
      if (Array.isArray(o.conditions)) {
        if (o.operator !== "NOT") o.conditions.forEach(collect);
        return;
      }
      for (const k of ["text", "subject", "body"]) if (typeof o[k] === "string" && o[k]) terms.push((o[k] as string).toLowerCase());
    };
    if (args.filter !== undefined && args.filter !== null) {
      toCondition(args.filter); // validates (unsupportedFilter / invalidArguments)
      collect(args.filter);
    }
    const nums = emailIds.map((id) => parseObjectId("e", id)).filter((n): n is number => n !== null);
    const rows = new Map((await ctx.core.store.emailsById(accountId, nums)).map((m) => [emailObjectId(m.emailId), m]));
    const list: { emailId: string; subject: string | null; preview: string | null }[] = [];
    const notFound: string[] = [];
    for (const id of emailIds) {
      const m = rows.get(id);
      if (!m) {
        notFound.push(id);
        continue;
      }
      const subject = terms.some((t) => m.subject.toLowerCase().includes(t)) ? mark(m.subject, terms) : null;
      let preview: string | null = null;
      if (terms.length) {
        const text = bodyTexts(m.structure, await ctx.core.store.read(m))
          .join("\n")
          .replace(/\s+/g, " ");
        const lower = text.toLowerCase();
        const at = Math.min(...terms.map((t) => lower.indexOf(t)).filter((i) => i >= 0));
        if (Number.isFinite(at)) preview = mark(text.slice(Math.max(0, at - 60), at + 200), terms);
      }
      list.push({ emailId: id, subject, preview });
    }
    return { accountId: args.accountId, list, notFound: notFound.length ? notFound : null };
  };

  return { "Email/import": importEmails, "Email/copy": copy, "Email/parse": parse, "SearchSnippet/get": snippets };
}

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** HTML-escaped text with the search terms in <mark> (RFC 8621 §5). */
function mark(text: string, terms: string[]): string {
  const lower = text.toLowerCase();
  let out = "";
  let i = 0;
  while (i < text.length) {
    const t = terms.find((x) => x && lower.startsWith(x, i));
    if (t) {
      out += `<mark>${escapeHtml(text.slice(i, i + t.length))}</mark>`;
      i += t.length;
    } else {
      out += escapeHtml(text[i]!);
      i++;
    }
  }
  return out;
}
