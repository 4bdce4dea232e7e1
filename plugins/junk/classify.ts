// The decision at delivery, per recipient account: known correspondents are skipped,
// otherwise the account's model (over the shared seed) scores the message; at or above
// the threshold its copy goes to Junk. The classifier alone never refuses mail.
import { parseAddressList } from "../../core/mime/index.ts";
import type { DataCheck, IncomingMessage, SmtpTxn } from "../../core/types.ts";
import { LayeredModel, score, type ModelView } from "./bayes.ts";
import type { ModelStore } from "./model-store.ts";
import { tokenize } from "./tokenize.ts";

/** Default of `[junk] threshold` (the corpus test holds the floors at this value). */
export const SPAM_THRESHOLD = 0.9;

export interface AccountVerdict {
  accountId: number;
  /** null: skipped (the sender is someone the user wrote to). */
  prob: number | null;
  junk: boolean;
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

export async function classify(accounts: number[], txn: Pick<SmtpTxn, "mailFrom">, msg: IncomingMessage, models: ModelStore, seed: ModelView, threshold: number): Promise<AccountVerdict[]> {
  const senders = senderAddresses(txn, msg);
  let tokens: Set<string> | undefined;
  const out: AccountVerdict[] = [];
  for (const accountId of accounts) {
    if (await models.isContact(accountId, senders)) {
      out.push({ accountId, prob: null, junk: false });
      continue;
    }
    tokens ??= tokenize(msg.raw);
    const { prob } = score(tokens, new LayeredModel(await models.model(accountId), seed));
    out.push({ accountId, prob, junk: prob >= threshold });
  }
  return out;
}

/** The header for the stored copy. The prefix is shared by every recipient of the
 *  message, so a score is shown only when one account was classified. */
export function scoreHeader(v: AccountVerdict[]): string[] {
  if (v.length !== 1) return [];
  const [a] = v as [AccountVerdict];
  if (a.prob === null) return ["X-Spam-Score: skipped (known sender)"];
  return [`X-Spam-Score: ${a.prob.toFixed(3)} (${a.junk ? "junk" : "ok"}; kotakpos bayes)`];
}

export function toDataCheck(v: AccountVerdict[]): DataCheck {
  const junk = v.filter((a) => a.junk).map((a) => a.accountId);
  return { verdict: { kind: "pass" }, headers: scoreHeader(v), ...(junk.length > 0 && { junk }) };
}
