// The worker thread that runs the inbound checks (inbound.ts) off the event loop: DKIM
// verification cost grows with the header size (mailauth canonicalises every field), so a
// hostile message must never stall sessions, TLS handshakes or SIGTERM. DNS questions go
// back to the main thread (one resolver, its budget and its config); check-pool.ts owns
// the lifecycle and terminates a worker that passes its deadline.
import { checkInbound, type InboundInput } from "./inbound.ts";
import type { ToPool, ToWorker } from "./check-protocol.ts";

declare const self: Worker;

let nextQuery = 0;
const pending = new Map<number, { resolve: (v: unknown[]) => void; reject: (e: Error) => void }>();

function post(m: ToPool): void {
  self.postMessage(m);
}

/** The resolver mailauth sees: each question is answered by the main thread. */
function resolver(name: string, rrtype: string): Promise<unknown[]> {
  const qid = ++nextQuery;
  return new Promise((resolve, reject) => {
    pending.set(qid, { resolve, reject });
    post({ type: "resolve", qid, name, rrtype });
  });
}

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  if (m.type === "resolved") {
    const p = pending.get(m.qid);
    if (!p) return;
    pending.delete(m.qid);
    if (m.ok) p.resolve(m.value);
    else p.reject(Object.assign(new Error(m.message), { code: m.code }));
    return;
  }
  const input: InboundInput = { ...m.input, raw: new Uint8Array(m.input.raw), resolver };
  checkInbound(input).then(
    // Results carry only plain data; a JSON round trip drops anything not cloneable.
    (result) => post({ type: "done", id: m.id, result: JSON.parse(JSON.stringify(result)) }),
    (err: unknown) => post({ type: "failed", id: m.id, message: (err as Error)?.message ?? String(err) }),
  );
};
