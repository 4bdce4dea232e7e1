// Poll until a condition holds (e2e tests wait for mail to arrive, never for fixed times).
export async function until<T>(what: string, fn: () => Promise<T | undefined | false | null> | T | undefined | false | null, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}
