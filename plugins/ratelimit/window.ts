// Sliding-window counters in memory (one process; a restart forgets them, which only
// ever loosens a limit for an hour).

export class SlidingCounter {
  private readonly hits = new Map<string, number[]>();
  constructor(private readonly windowMs: number) {}

  private recent(key: string, now: number): number[] {
    const r = (this.hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (r.length === 0) this.hits.delete(key);
    else this.hits.set(key, r);
    return r;
  }

  count(key: string, now = Date.now()): number {
    return this.recent(key, now).length;
  }

  add(key: string, n = 1, now = Date.now()): number {
    const r = this.recent(key, now);
    for (let i = 0; i < n; i++) r.push(now);
    this.hits.set(key, r);
    return r.length;
  }
}

/** Keys with an expiry (bans, holds, "already alerted"). */
export class Expiring {
  private readonly until = new Map<string, number>();
  has(key: string, now = Date.now()): boolean {
    const u = this.until.get(key);
    if (u === undefined) return false;
    if (u > now) return true;
    this.until.delete(key);
    return false;
  }
  set(key: string, ms: number, now = Date.now()): void {
    this.until.set(key, now + ms);
  }
}
