// Messages between check-pool.ts (main thread) and check-worker.ts.
import type { InboundInput, InboundResult } from "./inbound.ts";

/** The input of one check, without the resolver (which stays on the main thread). */
export type CheckJob = Omit<InboundInput, "resolver" | "raw"> & { raw: ArrayBuffer };

export type ToWorker =
  | { type: "check"; id: number; input: CheckJob }
  | { type: "resolved"; qid: number; ok: true; value: unknown[] }
  | { type: "resolved"; qid: number; ok: false; message: string; code?: string };

export type ToPool = { type: "resolve"; qid: number; name: string; rrtype: string } | { type: "done"; id: number; result: InboundResult } | { type: "failed"; id: number; message: string };
