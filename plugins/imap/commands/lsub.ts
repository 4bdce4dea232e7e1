// RFC 3501 §6.3.9 LSUB (deprecated by IMAP4rev2, still used by IMAP4rev1 clients).
import { AUTHED, type CommandSpec } from "../command.ts";
import { list } from "./list.ts";

export const lsub: CommandSpec = { name: "LSUB", states: AUTHED, run: (s, c) => list(s, c, true) };
