// Messages between check-pool.ts (main thread) and check-worker.ts.
import type { InboundInput, InboundResult } from "./inbound.ts";

/** The input of one check, without the resolver (which stays on the main thread). */
export type CheckJob = Omit<InboundInput, "resolver" | "raw"> & { raw: ArrayBuffer };

/** `until` (resolved): how long the main thread's resolver keeps this answer cached (ms
 *  since the epoch, 0 = not cached); the worker keeps its copy as long, no longer. */
export type ToWorker =
  | { type: "check"; id: number; input: CheckJob }
  | { type: "resolved"; qid: number; ok: true; value: unknown[]; until: number }
  | { type: "resolved"; qid: number; ok: false; message: string; code?: string; until: number };

export type ToPool = { type: "resolve"; qid: number; name: string; rrtype: string } | { type: "done"; id: number; result: InboundResult } | { type: "failed"; id: number; message: string };
