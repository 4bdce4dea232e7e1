// The worker thread that runs the inbound checks (inbound.ts) off the event loop: DKIM
// verification cost grows with the header size (mailauth canonicalises every field), so a
// hostile message must never stall sessions, TLS handshakes or SIGTERM. DNS questions go
// back to the main thread (one resolver, its budget and its config), and the answers it
// caches are kept here for as long as it keeps them; check-pool.ts owns
// the lifecycle and terminates a worker that passes its deadline.
import { checkInbound, type InboundInput } from "./inbound.ts";
import type { ToPool, ToWorker } from "./check-protocol.ts";

declare const self: Worker;

let nextQuery = 0;
const pending = new Map<number, { key: string; resolve: (v: unknown[]) => void; reject: (e: Error) => void }>();

/** Answers as the main thread's resolver caches them, kept exactly as long (its `until`):
 *  the same answer without a round trip per question. Questions in flight are shared. */
const answers = new Map<string, { until: number; value?: unknown[]; error?: { message: string; code?: string } }>();
const inflight = new Map<string, Promise<unknown[]>>();
const MAX_ANSWERS = 5000;

const dnsError = (e: { message: string; code?: string }): Error => Object.assign(new Error(e.message), { code: e.code });

function post(m: ToPool): void {
  self.postMessage(m);
}

/** Asks the main thread; remembers the answer for as long as its cache keeps it. */
function ask(key: string, name: string, rrtype: string): Promise<unknown[]> {
  const qid = ++nextQuery;
  return new Promise<unknown[]>((resolve, reject) => {
    pending.set(qid, { key, resolve, reject });
    post({ type: "resolve", qid, name, rrtype });
  }).finally(() => inflight.delete(key));
}

/** The resolver mailauth sees: each question is answered by the main thread (one
 *  resolver, one cache), or from the copy of its cached answer. Every caller gets its own
 *  copy of the records (mailauth may sort or change what it is given). */
function resolver(name: string, rrtype: string): Promise<unknown[]> {
  const key = `${rrtype.toUpperCase()} ${name.replace(/\.$/, "").toLowerCase()}`;
  const hit = answers.get(key);
  if (hit && hit.until > Date.now()) return hit.error ? Promise.reject(dnsError(hit.error)) : Promise.resolve(structuredClone(hit.value!));
  if (hit) answers.delete(key);
  let p = inflight.get(key);
  if (!p) {
    p = ask(key, name, rrtype);
    inflight.set(key, p);
  }
  return p.then((v) => structuredClone(v));
}

function remember(key: string, until: number, entry: { value?: unknown[]; error?: { message: string; code?: string } }): void {
  if (!(until > Date.now())) return;
  if (answers.size >= MAX_ANSWERS) answers.delete(answers.keys().next().value!);
  answers.set(key, { until, ...entry });
}

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  if (m.type === "resolved") {
    const p = pending.get(m.qid);
    if (!p) return;
    pending.delete(m.qid);
    if (m.ok) {
      remember(p.key, m.until, { value: m.value });
      p.resolve(m.value);
    } else {
      const error = { message: m.message, ...(m.code !== undefined && { code: m.code }) };
      remember(p.key, m.until, { error });
      p.reject(dnsError(error));
    }
    return;
  }
  const input: InboundInput = { ...m.input, raw: new Uint8Array(m.input.raw), resolver };
  checkInbound(input).then(
    // Results carry only plain data; a JSON round trip drops anything not cloneable.
    (result) => post({ type: "done", id: m.id, result: JSON.parse(JSON.stringify(result)) }),
    (err: unknown) => post({ type: "failed", id: m.id, message: (err as Error)?.message ?? String(err) }),
  );
};
