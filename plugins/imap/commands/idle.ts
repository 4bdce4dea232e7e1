// RFC 2177 / RFC 9051 §6.3.13 IDLE: changes are pushed as they happen (batched for a
// moment so a burst becomes one update) until the client sends DONE. An idling session
// may wait for days, and a server holds thousands of them: the command holds the
// session's loop (HoldSpec) and keeps its state in one small object, not in a chain of
// pending async calls.
import { AUTHED, bad, ok, type HoldSpec } from "../command.ts";
import { updateContexts } from "../contexts.ts";
import type { Session } from "../session.ts";

const BATCH_MS = 50;

/** One IDLE in progress. */
class Idling {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inflight: Promise<void> | null = null;

  constructor(
    private readonly s: Session,
    private readonly tag: string,
  ) {}

  /** Something changed (Session's idle push): report it after BATCH_MS. */
  push(): void {
    if (!this.timer && this.s.idling) this.timer = setTimeout(() => this.report(), BATCH_MS);
  }

  private report(): void {
    this.timer = null;
    if (this.inflight) {
      // A change arrived while we were reporting: look again afterwards.
      void this.inflight.then(() => this.push());
      return;
    }
    const s = this.s;
    this.inflight = s
      .syncSelected(true)
      .then(() => (s.contexts.size ? updateContexts(s) : undefined))
      .catch((e) => s.conn.log.warn("imap idle sync failed", { err: String(e) }))
      .finally(() => (this.inflight = null));
  }

  /** The client's next line (DONE), or null: the connection is gone (Session.nextLine). */
  line(line: string | "toolong" | null): void {
    void this.end(line);
  }

  private async end(line: string | "toolong" | null): Promise<void> {
    const s = this.s;
    s.idling = false;
    s.setIdlePush(null);
    if (this.timer) clearTimeout(this.timer);
    if (this.inflight) await this.inflight;
    const done = typeof line === "string" && line.trim().toUpperCase() === "DONE";
    await s.endHeld(this.tag, line === null ? null : done ? ok("IDLE terminated") : bad("Expected DONE"));
  }
}

export const idle: HoldSpec = {
  name: "IDLE",
  states: AUTHED,
  hold(s, c) {
    c.args.end();
    s.send("+ idling");
    s.idling = true;
    const state = new Idling(s, c.tag);
    s.setIdlePush(state);
    if (s.selected?.dirty) state.push();
    s.hold();
    s.nextLine(state);
  },
};
