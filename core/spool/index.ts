// The spool: durable accept, queue admin, and the delivery scheduler (serve only).
import type { Db } from "../db/open.ts";
import type { Config } from "../config.ts";
import type { Hooks, Logger } from "../types.ts";
import type { Store } from "../store/types.ts";
import type { AcceptedMessage, Spool } from "./types.ts";
import { acceptMessage } from "./accept.ts";
import { deleteMessage, getMessage, listQueue, retryMessage } from "./admin.ts";

export interface SpoolOptions {
  db: Db;
  store: Store;
  config: Config;
  log: Logger;
  hooks: Hooks;
  /** EHLO name and bounce sender host; config.hostname when absent. */
  hostname?: string;
}

export function createSpool(opts: SpoolOptions): Spool {
  const { db, store, hooks } = opts;
  return {
    async accept(msg: AcceptedMessage) {
      const { id } = await acceptMessage(db, store, msg);
      if (msg.remote.length > 0) hooks.notify("message.queued", { id, recipients: msg.remote.map((r) => r.address) });
      return { id };
    },
    list: () => listQueue(db),
    get: (id) => getMessage(db, id),
    retry: (id) => retryMessage(db, id),
    delete: (id) => deleteMessage(db, id),
    start() {},
    async stop() {},
  };
}
