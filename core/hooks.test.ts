import { describe, expect, test } from "bun:test";
import { createHooks } from "./hooks.ts";
import { createLogger } from "./log.ts";
import { HOOKS, type Address, type Connection, type HookName, type SmtpTxn } from "./types.ts";

const log = createLogger("error");
const txn = {} as SmtpTxn;
const addr: Address = { address: "a@b.test", local: "a", domain: "b.test", params: {} };

describe("hooks", () => {
  test("first: pass falls through, the first decisive verdict wins, defaults run last", async () => {
    const h = createHooks(log);
    const calls: string[] = [];
    h.on("smtp.mail", () => (calls.push("default"), { kind: "accept" }), { plugin: "core", last: true });
    h.on("smtp.mail", () => (calls.push("one"), { kind: "pass" }), { plugin: "one" });
    h.on("smtp.mail", () => (calls.push("two"), { kind: "reject", reply: { code: 550, enhanced: "5.7.1", text: "no" } }), { plugin: "two" });
    const r = await h.first("smtp.mail", txn, addr);
    expect(r).toEqual({ kind: "reject", reply: { code: 550, enhanced: "5.7.1", text: "no" } });
    expect(calls).toEqual(["one", "two"]);
    expect(h.list().map((x) => x.plugin)).toEqual(["one", "two", "core"]);
  });

  test("first: nothing decisive → pass", async () => {
    const h = createHooks(log);
    h.on("smtp.mail", () => ({ kind: "pass" }));
    expect(await h.first("smtp.mail", txn, addr)).toEqual({ kind: "pass" });
  });

  test("a throw becomes a temporary failure, never a 5xx", async () => {
    const h = createHooks(log);
    h.on("smtp.mail", () => {
      throw new Error("boom");
    });
    const r = await h.first("smtp.mail", txn, addr);
    expect(r.kind).toBe("defer");
    expect("reply" in r && r.reply.code).toBe(451);
  });

  test("a timeout aborts the handler's signal and defers", async () => {
    const h = createHooks(log);
    let aborted = false;
    h.on(
      "smtp.mail",
      (_t, _a, { signal }) =>
        new Promise(() => {
          signal.addEventListener("abort", () => (aborted = true));
        }),
      { timeoutMs: 30 },
    );
    const r = await h.first("smtp.mail", txn, addr);
    expect(r.kind).toBe("defer");
    expect(aborted).toBe(true);
  });

  test("parallel runs every handler at once and collects results", async () => {
    const h = createHooks(log);
    let running = 0;
    let peak = 0;
    const slow = async () => {
      running++;
      peak = Math.max(peak, running);
      await Bun.sleep(20);
      running--;
      return { kind: "check" as const, verdict: { kind: "pass" as const } };
    };
    h.on("smtp.data", slow);
    h.on("smtp.data", slow);
    h.on("smtp.data", () => {
      throw new Error("x");
    });
    const r = await h.parallel("smtp.data", txn, { raw: new Uint8Array(), prefix: [], headers: [] });
    expect(peak).toBe(2);
    expect(r.map((x) => x.verdict.kind)).toEqual(["pass", "pass", "defer"]);
  });

  test("notify never throws; all collects in order", async () => {
    const h = createHooks(log);
    const seen: string[] = [];
    h.on("disconnect", () => void seen.push("a"));
    h.on("disconnect", () => {
      throw new Error("b");
    });
    h.on("disconnect", () => void seen.push("c"));
    h.notify("disconnect", {} as Connection);
    await Bun.sleep(5);
    expect(seen).toEqual(["a", "c"]);
    const order: string[] = [];
    h.on("deliver.remote.before", () => (order.push("1"), { kind: "headers", headers: ["A: 1"] }));
    h.on("deliver.remote.before", () => {
      throw new Error("2");
    });
    h.on("deliver.remote.before", () => (order.push("3"), { kind: "pass" }));
    expect((await h.all("deliver.remote.before", {} as never)) as unknown[]).toEqual([{ kind: "headers", headers: ["A: 1"] }, undefined, { kind: "pass" }]);
    expect(order).toEqual(["1", "3"]);
  });

  test("run follows the declaration table; asking for another mode is refused", async () => {
    const h = createHooks(log);
    h.on("smtp.mail", () => ({ kind: "accept" }));
    h.on("delivered", () => undefined);
    expect(await h.run("smtp.mail", txn, addr)).toEqual({ kind: "accept" });
    expect(h.run("delivered", { id: "x", recipient: "a@b.test", reply: "250" })).toBeUndefined();
    expect(() => h.all("smtp.mail", txn, addr)).toThrow('hook smtp.mail runs "first", not "all"');
    expect(() => h.notify("route", txn, addr)).toThrow(/runs "first"/);
  });

  test("every hook is declared, and each failure result of a deciding hook has a kind", async () => {
    const names: HookName[] = [
      "connect",
      "tls.certificate",
      "auth",
      "smtp.helo",
      "smtp.mail",
      "route",
      "smtp.rcpt",
      "smtp.data",
      "deliver.remote.before",
      "smtp.sendas",
      "message.queued",
      "delivered",
      "deferred",
      "bounced",
      "nextHop",
      "http.routes",
      "disconnect",
      "tls.certificates",
      "acme.dns01",
      "http.auth",
      "dns.records",
      "banner",
      "url.fetch",
      "smtp.rejected",
    ];
    expect(Object.keys(HOOKS).sort()).toEqual([...names].sort());
    for (const n of names) {
      const { mode, failure } = HOOKS[n];
      if (mode === "first") expect((failure as { kind?: string } | undefined)?.kind, n).toBeString();
      // A failing handler yields the declared result.
      const h = createHooks(log);
      h.on(n, () => {
        throw new Error("boom");
      });
      const args = [txn, addr, {}] as never[];
      const r = await (h.run as (name: HookName, ...a: never[]) => unknown)(n, ...args);
      if (mode === "first") expect(r, n).toEqual(failure);
      if (mode === "all" || mode === "parallel") expect(r, n).toEqual([failure]);
    }
  });
});
