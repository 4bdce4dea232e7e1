// Every command, by name. One file per command (two for the paired SELECT/EXAMINE and
// SUBSCRIBE/UNSUBSCRIBE, which differ by one flag).
import type { CommandSpec } from "../command.ts";
import { append } from "./append.ts";
import { authenticate } from "./authenticate.ts";
import { cancelupdate } from "./cancelupdate.ts";
import { capability } from "./capability.ts";
import { close } from "./close.ts";
import { compress } from "./compress.ts";
import { copy } from "./copy.ts";
import { create } from "./create.ts";
import { del } from "./delete.ts";
import { enable } from "./enable.ts";
import { expunge } from "./expunge.ts";
import { fetch } from "./fetch.ts";
import { id } from "./id.ts";
import { idle } from "./idle.ts";
import { listCmd } from "./list.ts";
import { login } from "./login.ts";
import { logout } from "./logout.ts";
import { lsub } from "./lsub.ts";
import { getmetadata, setmetadata } from "./metadata.ts";
import { move } from "./move.ts";
import { namespace } from "./namespace.ts";
import { notify } from "./notify.ts";
import { check, noop } from "./noop.ts";
import { getquota, getquotaroot, setquota } from "./quota.ts";
import { rename } from "./rename.ts";
import { replace } from "./replace.ts";
import { search } from "./search.ts";
import { sort } from "./sort.ts";
import { thread } from "./thread.ts";
import { examineCmd, selectCmd } from "./select.ts";
import { starttls } from "./starttls.ts";
import { status } from "./status.ts";
import { store } from "./store.ts";
import { subscribe, unsubscribe } from "./subscribe.ts";
import { unauthenticate } from "./unauthenticate.ts";
import { unselect } from "./unselect.ts";
import { genurlauth, resetkey, urlfetch } from "./urlauth.ts";

const all: CommandSpec[] = [
  append,
  authenticate,
  capability,
  check,
  close,
  compress,
  copy,
  create,
  del,
  enable,
  examineCmd,
  expunge,
  fetch,
  id,
  idle,
  listCmd,
  login,
  logout,
  lsub,
  move,
  namespace,
  noop,
  rename,
  search,
  selectCmd,
  sort,
  starttls,
  status,
  store,
  subscribe,
  thread,
  unselect,
  unsubscribe,
  getquota,
  getquotaroot,
  setquota,
  cancelupdate,
  replace,
  unauthenticate,
  getmetadata,
  setmetadata,
  notify,
  genurlauth,
  urlfetch,
  resetkey,
];

export const commands = new Map<string, CommandSpec>(all.map((c) => [c.name, c]));
