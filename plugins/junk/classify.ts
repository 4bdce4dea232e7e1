// The decision at delivery, per recipient account: known correspondents are skipped,
// otherwise the account's model (over the shared seed) scores the message; at or above
// the threshold its copy goes to Junk. The classifier alone never refuses mail.
import { parseAddressList } from "../../core/mime/index.ts";
import type { DataCheck, IncomingMessage, SmtpTxn } from "../../core/types.ts";
import { LayeredModel, score, type ModelView } from "./bayes.ts";
import type { ModelStore } from "./model-store.ts";
import { tokenize } from "./tokenize.ts";
import { decide, reputationKey } from "./reputation.ts";

/** Default of `[junk] threshold` (the corpus test holds the floors at this value). */
export const SPAM_THRESHOLD = 0.9;
/** Until an account has learned this many messages of its own, the seed alone decides,
 *  and its ham side knows little of today's mail (receipts, shipping notices): then only
 *  a near-certain score files into Junk. */
export const THIN_TRAINING = 5;
export const THIN_THRESHOLD = 0.99;

export interface AccountVerdict {
  accountId: number;
  /** null: not classified (`why` says why). */
  prob: number | null;
  junk: boolean;
  why?: "known sender" | "trusted sender domain" | "junked sender domain";
}

/** The envelope sender and the From: addresses, lower-cased. */
export function senderAddresses(txn: Pick<SmtpTxn, "mailFrom">, msg: Pick<IncomingMessage, "headers">): string[] {
  const out = new Set<string>();
  if (txn.mailFrom.address) out.add(`${txn.mailFrom.local}@${txn.mailFrom.domain}`.toLowerCase());
  for (const h of msg.headers) {
    if (h.name !== "from") continue;
    for (const a of parseAddressList(h.value)) if (a.mailbox && a.host) out.add(`${a.mailbox}@${a.host}`.toLowerCase());
  }
  return [...out];
}

/** The From domain's reputation key when DMARC passed for it (aligned), else null. */
function alignedDomain(msg: Pick<IncomingMessage, "headers">, dmarc: { result: string; domain: string } | null): string | null {
  if (dmarc?.result !== "pass") return null;
  const from = msg.headers.find((h) => h.name === "from");
  const host = from ? parseAddressList(from.value).find((a) => a.host)?.host : undefined;
  if (!host) return null;
  const d = host.toLowerCase();
  const org = dmarc.domain.toLowerCase();
  return d === org || d.endsWith(`.${org}`) ? reputationKey(d) : null;
}

export async function classify(
  accounts: number[],
  txn: Pick<SmtpTxn, "mailFrom">,
  msg: IncomingMessage,
  models: ModelStore,
  seed: ModelView,
  threshold: number,
  dmarc: { result: string; domain: string } | null = null,
): Promise<AccountVerdict[]> {
  const senders = senderAddresses(txn, msg);
  const aligned = alignedDomain(msg, dmarc);
  let tokens: Set<string> | undefined;
  const out: AccountVerdict[] = [];
  for (const accountId of accounts) {
    if (await models.isContact(accountId, senders)) {
      out.push({ accountId, prob: null, junk: false, why: "known sender" });
      continue;
    }
    const rep = aligned ? decide(await models.sender(accountId, aligned)) : null;
    if (rep) {
      out.push({ accountId, prob: null, junk: rep === "junk", why: rep === "junk" ? "junked sender domain" : "trusted sender domain" });
      continue;
    }
    tokens ??= tokenize(msg.raw);
    const own = await models.model(accountId);
    const { prob } = score(tokens, new LayeredModel(own, seed));
    const t = own.nspam + own.nham < THIN_TRAINING ? Math.max(threshold, THIN_THRESHOLD) : threshold;
    out.push({ accountId, prob, junk: prob >= t });
  }
  return out;
}

/** The header for the stored copy. The prefix is shared by every recipient of the
 *  message, so a score is shown only when one account was classified. */
export function scoreHeader(v: AccountVerdict[]): string[] {
  if (v.length !== 1) return [];
  const [a] = v as [AccountVerdict];
  if (a.prob === null) return [`X-Spam-Score: skipped (${a.why ?? "known sender"})`];
  return [`X-Spam-Score: ${a.prob.toFixed(3)} (${a.junk ? "junk" : "ok"}; kotakpos bayes)`];
}

export function toDataCheck(v: AccountVerdict[]): DataCheck {
  const junk = v.filter((a) => a.junk).map((a) => a.accountId);
  return { kind: "check", verdict: { kind: "pass" }, headers: scoreHeader(v), ...(junk.length > 0 && { junk }) };
}
