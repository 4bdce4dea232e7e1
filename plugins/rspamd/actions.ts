// rspamd's action → our verdict: reject → 554, soft reject and greylist → 451 (the sender
// retries), add header / rewrite subject → Junk, no action → delivered. The score goes
// into X-Rspamd-* headers either way.
import type { DataCheck } from "../../core/types.ts";
import type { CheckResult } from "./client.ts";

function clean(s: string): string {
  return s
    .replace(/[^\x20-\x7e]+/g, " ")
    .trim()
    .slice(0, 200);
}

export function toDataCheck(r: CheckResult): DataCheck {
  const score = Number.isFinite(r.score) ? r.score.toFixed(2) : "0.00";
  const symbols = Object.keys(r.symbols ?? {})
    .sort()
    .slice(0, 30)
    .join(", ");
  const headers = [`X-Rspamd-Score: ${score} / ${(r.required_score ?? 0).toFixed(2)}`, `X-Rspamd-Action: ${clean(r.action)}`];
  if (symbols) headers.push(`X-Rspamd-Symbols: ${clean(symbols)}`);
  const text = clean(r.messages?.smtp_message ?? "");
  switch (r.action) {
    case "reject":
      return { kind: "check", verdict: { kind: "reject", reply: { code: 554, enhanced: "5.7.1", text: text ? `Message refused as spam: ${text}` : "Message refused as spam" } } };
    case "soft reject":
      return { kind: "check", verdict: { kind: "defer", reply: { code: 451, enhanced: "4.7.1", text: text || "Try again later" } } };
    case "greylist":
      return { kind: "check", verdict: { kind: "defer", reply: { code: 451, enhanced: "4.7.1", text: "Greylisted, please try again later" } } };
    case "add header":
    case "rewrite subject":
      return { kind: "check", verdict: { kind: "quarantine", reason: `rspamd: ${r.action} (score ${score})` }, headers: [...headers, "X-Spam: Yes"] };
    default:
      return { kind: "check", verdict: { kind: "pass" }, headers };
  }
}
