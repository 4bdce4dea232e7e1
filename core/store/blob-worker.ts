// The blob store's worker threads (blob-writer.ts, blob-reader.ts) share this: the worker's
// code is a plain JS string run from a blob: URL, so `bun build --compile` needs no extra
// entry point (and its bundler cannot rewrite the worker's `require`). It starts on the
// first call, keeps the process alive only while calls are pending, and when it dies the
// calls it held fail and the next call starts a new one.

export interface WorkerCalls<A> {
  /** One call: `post` sends the request numbered `n`; its answer settles the promise. */
  call(post: (w: Worker, n: number) => void): Promise<A>;
  /** Fails what is pending and stops the worker. */
  close(reason: string): void;
}

/** `answers` turns one message of the worker into the calls it settles: by number, the
 *  result or the failure. */
export function workerCalls<A>(source: string, what: string, answers: (data: unknown) => Iterable<[number, A | Error]>): WorkerCalls<A> {
  let worker: Worker | null = null;
  let url: string | null = null;
  let seq = 0;
  const pending = new Map<number, { resolve: (a: A) => void; reject: (e: Error) => void }>();

  function fail(err: Error): void {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    worker?.terminate();
    worker = null;
    if (url) URL.revokeObjectURL(url);
    url = null;
  }

  function start(): Worker {
    url = URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
    const w = new Worker(url);
    w.onmessage = (e: MessageEvent) => {
      for (const [n, r] of answers(e.data)) {
        const p = pending.get(n);
        if (!p) continue;
        pending.delete(n);
        if (r instanceof Error) p.reject(r);
        else p.resolve(r);
      }
      if (pending.size === 0) w.unref();
    };
    w.onerror = (e: ErrorEvent) => fail(new Error(`${what} failed: ${e.message}`));
    return w;
  }

  return {
    call(post) {
      const w = (worker ??= start());
      const n = ++seq;
      return new Promise<A>((resolve, reject) => {
        if (pending.size === 0) w.ref();
        pending.set(n, { resolve, reject });
        post(w, n);
      });
    },
    close: (reason) => fail(new Error(reason)),
  };
}
