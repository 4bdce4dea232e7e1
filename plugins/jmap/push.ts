// Push over an event source (RFC 8620 §7.3): StateChange events from the store's change
// events, coalesced per tick; ping events at the asked interval; closeafter=state.
import type { Core, AuthUser } from "../../core/types.ts";
import type { StoreChange } from "../../core/store/types.ts";
import { accountIdOf } from "./context.ts";

const TYPES_OF: Record<StoreChange["kind"], string[]> = {
  append: ["Email", "EmailDelivery", "Thread", "Mailbox"],
  flags: ["Email", "Thread", "Mailbox"],
  expunge: ["Email", "Thread", "Mailbox"],
  mailbox: ["Mailbox"],
};
const ALL = ["Email", "EmailDelivery", "Thread", "Mailbox"];

export function eventSource(core: Core, user: AuthUser, url: URL, signal: AbortSignal): Response {
  const typesParam = url.searchParams.get("types") ?? "*";
  const want = typesParam === "*" ? new Set(ALL) : new Set(typesParam.split(",").filter(Boolean));
  const closeAfterState = url.searchParams.get("closeafter") === "state";
  const pingSec = Math.min(Math.max(Number(url.searchParams.get("ping") ?? "0") || 0, 0), 3600);
  const enc = new TextEncoder();
  let stop = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let pending: Record<string, string> | null = null;
      let closed = false;
      const send = (s: string) => {
        if (!closed) controller.enqueue(enc.encode(s));
      };
      const flush = () => {
        if (!pending || closed) return;
        const changed = { [accountIdOf(user.accountId)]: pending };
        pending = null;
        send(`event: state\ndata: ${JSON.stringify({ "@type": "StateChange", changed })}\n\n`);
        if (closeAfterState) stop();
      };
      const off = core.store.onChange((ev) => {
        if (ev.accountId !== user.accountId) return;
        const types = TYPES_OF[ev.kind].filter((t) => want.has(t));
        if (!types.length) return;
        const fresh = pending === null;
        pending ??= {};
        for (const t of types) pending[t] = String(ev.modseq);
        if (fresh) queueMicrotask(flush);
      });
      // RFC 8620 §7.3: the ping interval is at least the asked one (we send exactly it).
      const timer = pingSec > 0 ? setInterval(() => send(`event: ping\ndata: ${JSON.stringify({ interval: pingSec })}\n\n`), pingSec * 1000) : null;
      stop = () => {
        if (closed) return;
        closed = true;
        off();
        if (timer) clearInterval(timer);
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      };
      signal.addEventListener("abort", stop);
      core.closing.addEventListener("abort", stop);
      send(": kotakpos event source\n\n");
    },
    cancel() {
      stop();
    },
  });
  return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" } });
}
