// Email/get (RFC 8621 §4.2): properties from the row parsed at delivery; the stored bytes
// are read only when a property needs them (references, raw headers, body parts).
import { emailObjectId, mailboxObjectId, threadObjectId, parseObjectId } from "../../core/store/ids.ts";
import type { MessageMeta } from "../../core/store/types.ts";
import { hasAttachment } from "../../core/store/query.ts";
import { BODY_PART_PROPS, DEFAULT_BODY_PROPS, bodyLists, bodyValue, numberParts, partJson, type Part } from "./body.ts";
import { asMessageIds, envelopeAddresses, headerValue, isoDate, parseHeaderProperty, rawFields, asDate, type RawField } from "./headers.ts";
import { MethodError } from "./errors.ts";
import { optInt, ownAccount, resolveId, stateOf, stringArray, type Method, type MethodCtx } from "./context.ts";

export const EMAIL_PROPS = [
  "id",
  "blobId",
  "threadId",
  "mailboxIds",
  "keywords",
  "size",
  "receivedAt",
  "messageId",
  "inReplyTo",
  "references",
  "sender",
  "from",
  "to",
  "cc",
  "bcc",
  "replyTo",
  "subject",
  "sentAt",
  "hasAttachment",
  "preview",
  "bodyValues",
  "textBody",
  "htmlBody",
  "attachments",
  "headers",
  "bodyStructure",
] as const;
export const DEFAULT_PROPS = EMAIL_PROPS.filter((p) => p !== "headers" && p !== "bodyStructure");
/** Properties answered from the row alone. */
const CHEAP = new Set([
  "id",
  "blobId",
  "threadId",
  "mailboxIds",
  "keywords",
  "size",
  "receivedAt",
  "messageId",
  "inReplyTo",
  "sender",
  "from",
  "to",
  "cc",
  "bcc",
  "replyTo",
  "subject",
  "sentAt",
  "hasAttachment",
  "preview",
]);

export const emailBlobId = (emailId: number) => "M" + emailId.toString(36);

/** IMAP flags → JMAP keywords (RFC 8621 §4.1.1): system flags as $seen …, lower-case. */
export function keywordsOf(flags: string[]): Record<string, true> {
  const out: Record<string, true> = {};
  for (const f of flags) {
    if (f === "\\Deleted") continue;
    out[f.startsWith("\\") ? "$" + f.slice(1).toLowerCase() : f.toLowerCase()] = true;
  }
  return out;
}

export function validProperty(p: string): boolean {
  return (EMAIL_PROPS as readonly string[]).includes(p) || parseHeaderProperty(p) !== null;
}

export interface BodyOptions {
  bodyProperties: string[];
  fetchText: boolean;
  fetchHtml: boolean;
  fetchAll: boolean;
  maxBodyValueBytes: number;
}

/** One Email object with the requested properties. */
export async function emailJson(ctx: MethodCtx, m: MessageMeta, properties: string[], opts: BodyOptions, given?: { bytes: Uint8Array; blobId: string }): Promise<Record<string, unknown>> {
  const needBytes = properties.some((p) => !CHEAP.has(p));
  const bytes = given ? given.bytes : needBytes ? await ctx.core.store.read(m) : null;
  let fields: RawField[] | undefined;
  const top = () => (fields ??= rawFields(bytes!, m.structure.headerStart, m.structure.bodyStart));
  const blob = given ? given.blobId : emailBlobId(m.emailId);
  let parts: { root: Part; byId: Map<string, Part> } | undefined;
  const numbered = () => (parts ??= numberParts(m.structure));
  let lists: ReturnType<typeof bodyLists> | undefined;
  const body = () => (lists ??= bodyLists(numbered().root));
  const headerProp = (f: RawField[], p: string) => {
    const h = parseHeaderProperty(p);
    if (!h) throw new MethodError("invalidArguments", `unknown body property ${p}`);
    return headerValue(f, h);
  };
  const partOut = (p: Part) => partJson(p, bytes!, blob, opts.bodyProperties, headerProp);
  const env = m.envelope;
  const out: Record<string, unknown> = {};
  for (const p of properties) {
    switch (p) {
      case "id":
        out.id = emailObjectId(m.emailId);
        break;
      case "blobId":
        out.blobId = blob;
        break;
      case "threadId":
        out.threadId = threadObjectId(m.threadId);
        break;
      case "mailboxIds":
        out.mailboxIds = { [mailboxObjectId(m.mailboxId)]: true };
        break;
      case "keywords":
        out.keywords = keywordsOf(m.flags);
        break;
      case "size":
        out.size = m.size;
        break;
      case "receivedAt":
        out.receivedAt = isoDate(m.internalDate);
        break;
      case "messageId":
        out.messageId = env.messageId ? asMessageIds(env.messageId) : null;
        break;
      case "inReplyTo":
        out.inReplyTo = env.inReplyTo ? asMessageIds(env.inReplyTo) : null;
        break;
      case "references":
        out.references = headerValue(top(), { name: "references", form: "asMessageIds", all: false });
        break;
      case "sender":
        out.sender = envelopeAddresses(same(env.sender, env.from) ? null : env.sender);
        break;
      case "from":
        out.from = envelopeAddresses(env.from);
        break;
      case "to":
        out.to = envelopeAddresses(env.to);
        break;
      case "cc":
        out.cc = envelopeAddresses(env.cc);
        break;
      case "bcc":
        out.bcc = envelopeAddresses(env.bcc);
        break;
      case "replyTo":
        out.replyTo = envelopeAddresses(same(env.replyTo, env.from) ? null : env.replyTo);
        break;
      case "subject":
        out.subject = env.subject === null ? null : m.subject;
        break;
      case "sentAt":
        out.sentAt = env.date === null ? null : asDate(env.date);
        break;
      case "hasAttachment":
        out.hasAttachment = hasAttachment(m.structure);
        break;
      case "preview":
        out.preview = m.preview;
        break;
      case "headers":
        out.headers = top().map((f) => ({ name: f.name, value: f.value }));
        break;
      case "bodyStructure":
        out.bodyStructure = partJson(numbered().root, bytes!, blob, [...opts.bodyProperties, ...(opts.bodyProperties.includes("subParts") ? [] : ["subParts"])], headerProp);
        break;
      case "textBody":
        out.textBody = body().text.map(partOut);
        break;
      case "htmlBody":
        out.htmlBody = body().html.map(partOut);
        break;
      case "attachments":
        out.attachments = body().attachments.map(partOut);
        break;
      case "bodyValues": {
        const values: Record<string, unknown> = {};
        const want = new Set<Part>();
        if (opts.fetchAll) for (const x of [...body().text, ...body().html]) want.add(x);
        if (opts.fetchText) for (const x of body().text) want.add(x);
        if (opts.fetchHtml) for (const x of body().html) want.add(x);
        for (const x of want) if (x.mime.type === "text" && x.partId) values[x.partId] = bodyValue(x.mime, bytes!, opts.maxBodyValueBytes);
        out.bodyValues = values;
        break;
      }
      default: {
        const h = parseHeaderProperty(p);
        if (!h) throw new MethodError("invalidArguments", `unknown property ${p}`);
        out[p] = headerValue(top(), h);
      }
    }
  }
  return out;
}

/** The IMAP envelope repeats From in Sender and Reply-To when they are absent (RFC 9051
 *  §7.5.2); JMAP wants null then. */
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** bodyProperties, fetch*BodyValues, maxBodyValueBytes of Email/get and Email/parse. */
export function bodyOptions(args: Record<string, unknown>): BodyOptions {
  const bodyProperties = args.bodyProperties === undefined || args.bodyProperties === null ? DEFAULT_BODY_PROPS : stringArray(args.bodyProperties, "bodyProperties");
  const badBody = bodyProperties.filter((p) => !(BODY_PART_PROPS as readonly string[]).includes(p) && parseHeaderProperty(p) === null);
  if (badBody.length) throw new MethodError("invalidArguments", `unknown body properties: ${badBody.join(", ")}`);
  return {
    bodyProperties,
    fetchText: args.fetchTextBodyValues === true,
    fetchHtml: args.fetchHTMLBodyValues === true,
    fetchAll: args.fetchAllBodyValues === true,
    maxBodyValueBytes: optInt(args.maxBodyValueBytes, "maxBodyValueBytes", 0),
  };
}

const get: Method = async (args, ctx) => {
  const accountId = await ownAccount(args, ctx);
  const state = await stateOf(ctx, accountId);
  if (args.ids === null || args.ids === undefined) throw new MethodError("requestTooLarge", "Email/get needs ids (use Email/query)");
  const ids = stringArray(args.ids, "ids", ctx.cfg.maxObjectsInGet).map((id) => String(resolveId(id, ctx)));
  let properties = args.properties === undefined || args.properties === null ? [...DEFAULT_PROPS] : stringArray(args.properties, "properties");
  const bad = properties.filter((p) => !validProperty(p));
  if (bad.length) throw new MethodError("invalidArguments", `unknown properties: ${bad.join(", ")}`);
  if (!properties.includes("id")) properties = ["id", ...properties];
  const opts = bodyOptions(args);
  const nums = ids.map((id) => parseObjectId("e", id)).filter((n): n is number => n !== null);
  const rows = new Map((await ctx.core.store.emailsById(accountId, nums)).map((m) => [m.emailId, m]));
  const list: Record<string, unknown>[] = [];
  const notFound: string[] = [];
  for (const id of ids) {
    const m = rows.get(parseObjectId("e", id) ?? -1);
    if (!m) {
      notFound.push(id);
      continue;
    }
    try {
      list.push(await emailJson(ctx, m, properties, opts));
    } catch (e) {
      // Expunged between the lookup and the read: it is gone.
      if ((e as { code?: string }).code === "NONEXISTENT") notFound.push(id);
      else throw e;
    }
  }
  return { accountId: args.accountId, state, list, notFound };
};

export const emailGet: Record<string, Method> = { "Email/get": get };
