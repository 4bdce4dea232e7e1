// The session skeleton alone, over a fake connection and a line reader: order, backpressure,
// the error limit, the two timeouts, shutdown deferred past a running command.
import { describe, expect, test } from "bun:test";
import { SessionLoop, type SessionConn, type SessionHandlers, type SessionInput } from "./session.ts";
import type { Logger } from "./types.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

class FakeConn implements SessionConn {
  readonly log = quiet;
  paused = false;
  idleMs = -1;
  onIdle?: () => void;
  private ac = new AbortController();
  readonly closing = this.ac.signal;
  stop(): void {
    this.ac.abort();
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  setIdleTimeout(ms: number, onIdle?: () => void): void {
    this.idleMs = ms;
    this.onIdle = onIdle;
  }
}

function lines(): SessionInput<string> {
  let buf = "";
  return {
    push: (b) => void (buf += b.toString()),
    next() {
      const i = buf.indexOf("\n");
      if (i < 0) return null;
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      return l;
    },
    buffered: () => buf.length,
  };
}

const limits = { highWater: 10, lowWater: 2, maxErrors: 3, preAuthMs: 100, idleMs: 1000 };

function setup(h: Partial<SessionHandlers<string>> = {}) {
  const conn = new FakeConn();
  const seen: string[] = [];
  const events: string[] = [];
  let gate: Promise<void> = Promise.resolve();
  const loop = new SessionLoop<string>(conn, lines(), limits, {
    async handle(l) {
      seen.push(l);
      await gate;
      if (l === "boom") throw new Error("boom");
    },
    failed: () => events.push("failed"),
    timedOut: (busy) => (events.push(`timeout busy=${busy}`), !busy),
    shutdown: (busy) => (events.push(`shutdown busy=${busy}`), !busy),
    ...h,
  });
  return { conn, loop, seen, events, hold: (p: Promise<void>) => (gate = p) };
}

describe("SessionLoop", () => {
  test("nothing is handled before start; then lines in order, one at a time", async () => {
    const { loop, seen } = setup();
    loop.feed(Buffer.from("a\nb\n"));
    await Bun.sleep(1);
    expect(seen).toEqual([]);
    loop.start();
    loop.feed(Buffer.from("c\n"));
    await Bun.sleep(1);
    expect(seen).toEqual(["a", "b", "c"]);
  });

  test("a busy session holding more than highWater pauses reading, resumes at lowWater", async () => {
    const { conn, loop, seen, hold } = setup();
    let release!: () => void;
    hold(new Promise((r) => (release = r)));
    loop.start();
    loop.feed(Buffer.from("x\n" + "y\n".repeat(10)));
    expect(conn.paused).toBe(true);
    release();
    for (let i = 0; i < 100 && conn.paused; i++) await Bun.sleep(1);
    expect(conn.paused).toBe(false);
    expect(seen).toHaveLength(11);
  });

  test("an unfinished unit larger than the bound does not stall: reading resumes when the queue is dry", async () => {
    const { conn, loop, hold } = setup();
    let release!: () => void;
    hold(new Promise((r) => (release = r)));
    loop.start();
    loop.feed(Buffer.from("x\n"));
    loop.feed(Buffer.from("z".repeat(50)));
    expect(conn.paused).toBe(true);
    release();
    for (let i = 0; i < 100 && conn.paused; i++) await Bun.sleep(1);
    expect(conn.paused).toBe(false);
  });

  test("a handler's throw is reported through failed() and the session goes on", async () => {
    const { loop, seen, events } = setup();
    loop.start();
    loop.feed(Buffer.from("boom\nnext\n"));
    await Bun.sleep(1);
    expect(events).toEqual(["failed"]);
    expect(seen).toEqual(["boom", "next"]);
  });

  test("error() says when the limit is reached", () => {
    const { loop } = setup();
    expect([loop.error(), loop.error(), loop.error()]).toEqual([false, false, true]);
  });

  test("pre-login and idle timeouts; a running command restarts the timer", async () => {
    const { conn, loop, events, hold } = setup();
    expect(conn.idleMs).toBe(100);
    loop.authenticated(true);
    expect(conn.idleMs).toBe(1000);
    let release!: () => void;
    hold(new Promise((r) => (release = r)));
    loop.start();
    loop.feed(Buffer.from("slow\n"));
    conn.idleMs = -1;
    conn.onIdle!();
    expect(events).toEqual(["timeout busy=true"]);
    expect(conn.idleMs).toBe(1000); // started again
    release();
    await Bun.sleep(1);
    conn.onIdle!();
    expect(events).toEqual(["timeout busy=true", "timeout busy=false"]);
  });

  test("shutdown waits for the running command", async () => {
    const { conn, loop, events, hold } = setup();
    let release!: () => void;
    hold(new Promise((r) => (release = r)));
    loop.start();
    loop.feed(Buffer.from("slow\n"));
    conn.stop();
    expect(events).toEqual(["shutdown busy=true"]);
    release();
    await Bun.sleep(1);
    expect(events).toEqual(["shutdown busy=true", "shutdown busy=false"]);
  });

  test("closed: nothing more is handled", async () => {
    const { loop, seen } = setup();
    loop.start();
    loop.close();
    loop.feed(Buffer.from("a\n"));
    await Bun.sleep(1);
    expect(seen).toEqual([]);
  });

  test("hold: a held unit stops the loop with no call pending; release handles what came meanwhile", async () => {
    let loop!: SessionLoop<string>;
    const seen: string[] = [];
    const events: string[] = [];
    loop = new SessionLoop<string>(new FakeConn(), lines(), limits, {
      handle(l) {
        seen.push(l);
        if (l === "idle") loop.hold();
        // held and let go before returning (the client's DONE was already there)
        if (l === "quick") {
          loop.hold();
          loop.release();
        }
      },
      failed: () => events.push("failed"),
      timedOut: (busy) => (events.push(`timeout busy=${busy}`), true),
      shutdown: (busy) => (events.push(`shutdown busy=${busy}`), true),
    });
    loop.start();
    loop.feed(Buffer.from("a\nidle\nb\n"));
    loop.feed(Buffer.from("c\n"));
    await Bun.sleep(1);
    expect(seen).toEqual(["a", "idle"]);
    // held counts as busy
    expect(loop.isBusy).toBe(true);
    loop.release();
    await Bun.sleep(1);
    expect(seen).toEqual(["a", "idle", "b", "c"]);
    expect(loop.isBusy).toBe(false);
    loop.release(); // nothing held: no effect
    loop.feed(Buffer.from("quick\nd\n"));
    await Bun.sleep(1);
    expect(seen).toEqual(["a", "idle", "b", "c", "quick", "d"]);
    expect(loop.isBusy).toBe(false);
    expect(events).toEqual([]);
  });

  test("the shutdown signal reaches a loop (the loop is the abort listener) and leaves it on close", async () => {
    const a = setup();
    a.loop.start();
    a.conn.stop();
    expect(a.events).toEqual(["shutdown busy=false"]);
    const b = setup();
    b.loop.close();
    b.conn.stop();
    expect(b.events).toEqual([]);
  });
});
