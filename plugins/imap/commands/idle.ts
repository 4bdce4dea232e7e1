// RFC 2177 / RFC 9051 §6.3.13 IDLE: changes are pushed as they happen (batched for a
// moment so a burst becomes one update) until the client sends DONE.
import { AUTHED, bad, ok, type CommandSpec } from "../command.ts";
import { updateContexts } from "../contexts.ts";

const BATCH_MS = 50;

export const idle: CommandSpec = {
  name: "IDLE",
  states: AUTHED,
  async run(s, c) {
    c.args.end();
    s.send("+ idling");
    s.idling = true;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let inflight: Promise<void> | null = null;
    const flush = () => {
      timer = null;
      if (inflight) {
        // A change arrived while we were reporting: look again afterwards.
        void inflight.then(() => schedule());
        return;
      }
      inflight = s
        .syncSelected(true)
        .then(() => (s.contexts.size ? updateContexts(s) : undefined))
        .catch((e) => s.conn.log.warn("imap idle sync failed", { err: String(e) }))
        .finally(() => (inflight = null));
    };
    const schedule = () => {
      if (!timer && s.idling) timer = setTimeout(flush, BATCH_MS);
    };
    s.setIdlePush(schedule);
    if (s.selected?.dirty) schedule();
    try {
      const line = await s.readLine();
      if (line === null) return null;
      if (typeof line === "string" && line.trim().toUpperCase() === "DONE") return ok("IDLE terminated");
      return bad("Expected DONE");
    } finally {
      s.idling = false;
      s.setIdlePush(null);
      if (timer) clearTimeout(timer);
      if (inflight) await inflight;
    }
  },
};
