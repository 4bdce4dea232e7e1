import { expect, test } from "bun:test";
import { isSrsLocal, srsForward, srsReverse, type SrsOptions } from "./srs.ts";

const DAY = 86_400_000;
const t0 = Date.UTC(2026, 10, 22);
const opts = (now = t0, secret = "s3cret"): SrsOptions => ({ secret, maxAgeDays: 21, now: () => now });
const localOf = (a: string) => a.slice(0, a.lastIndexOf("@"));

test("SRS0 round trip", () => {
  const a = srsForward("Alice=x@origin.test", "fwd.test", opts());
  expect(a).toMatch(/^SRS0=[a-z2-7]{6}=[a-z2-7]{2}=origin\.test=Alice=x@fwd\.test$/);
  expect(isSrsLocal(localOf(a))).toBe(true);
  expect(srsReverse(localOf(a), opts())).toEqual({ ok: true, address: "Alice=x@origin.test" });
});

test("a bounce from an MTA that folded case still verifies", () => {
  const a = srsForward("alice@origin.test", "fwd.test", opts());
  expect(srsReverse(localOf(a).toUpperCase(), opts()).ok).toBe(true);
});

test("bad hash, another secret, tampered address are refused", () => {
  const l = localOf(srsForward("alice@origin.test", "fwd.test", opts()));
  expect(srsReverse(l, opts(t0, "other"))).toEqual({ ok: false, reason: "bad hash" });
  expect(srsReverse(l.replace("alice", "mallory"), opts())).toEqual({ ok: false, reason: "bad hash" });
  expect(srsReverse("SRS0=aaaaaa=aa=origin.test=alice", opts())).toEqual({ ok: false, reason: "bad hash" });
  expect(srsReverse("SRS0=garbage", opts())).toEqual({ ok: false, reason: "malformed" });
  expect(srsReverse("SRS0=aaaaaa=a!=origin.test=alice", opts())).toEqual({ ok: false, reason: "malformed" });
});

test("expired after maxAgeDays, also across the 1024-day wrap", () => {
  const l = localOf(srsForward("alice@origin.test", "fwd.test", opts()));
  expect(srsReverse(l, opts(t0 + 21 * DAY)).ok).toBe(true);
  expect(srsReverse(l, opts(t0 + 22 * DAY))).toEqual({ ok: false, reason: "expired" });
  // Issued on the last day before the counter wraps, bounced two days later.
  const wrapDay = (Math.floor(t0 / DAY / 1024) + 1) * 1024 - 1;
  const l2 = localOf(srsForward("alice@origin.test", "fwd.test", opts(wrapDay * DAY)));
  expect(srsReverse(l2, opts((wrapDay + 2) * DAY)).ok).toBe(true);
});

test("forwarding an SRS0 address of another forwarder makes SRS1 back to it", () => {
  const first = srsForward("alice@origin.test", "one.test", opts(t0, "k1"));
  const second = srsForward(first, "two.test", opts(t0, "k2"));
  expect(second).toMatch(/^SRS1=[a-z2-7]{6}=one\.test==/);
  const back = srsReverse(localOf(second), opts(t0, "k2"));
  expect(back).toEqual({ ok: true, address: first });
  expect(srsReverse(localOf(first), opts(t0, "k1"))).toEqual({ ok: true, address: "alice@origin.test" });
  // A third hop keeps pointing at the first forwarder.
  const third = srsForward(second, "three.test", opts(t0, "k3"));
  expect(third).toMatch(/^SRS1=[a-z2-7]{6}=one\.test==/);
  expect(srsReverse(localOf(third), opts(t0, "k3"))).toEqual({ ok: true, address: first });
  expect(srsReverse(localOf(third), opts(t0, "k2")).ok).toBe(false);
});
