// What every command handler (one file per command in commands/) looks like.
import type { Args } from "./parser.ts";
import type { Session, State } from "./session.ts";

export interface Result {
  status: "OK" | "NO" | "BAD";
  /** Response code without brackets, e.g. "TRYCREATE", "APPENDUID 5 9". */
  code?: string;
  text: string;
}

export interface Ctx {
  tag: string;
  /** Upper-case command name without "UID ". */
  name: string;
  uid: boolean;
  args: Args;
}

interface SpecBase {
  name: string;
  states: readonly State[];
  /** Has a UID form (UID FETCH …). */
  uid?: boolean;
  /** RFC 9051 §7.5.1: no EXPUNGE responses during this command (its UID form may). */
  noExpunge?: boolean;
}

export interface RunSpec extends SpecBase {
  /** The tagged result, or null when the handler already answered (STARTTLS, LOGOUT). */
  run(s: Session, c: Ctx): Promise<Result | null>;
}

/** A command that waits on the client for long (IDLE until DONE): `hold` starts it and
 *  returns; it holds the session's command loop (Session.hold) and ends with
 *  Session.endHeld, so a waiting session keeps no pending call chain in memory. */
export interface HoldSpec extends SpecBase {
  hold(s: Session, c: Ctx): void;
}

export type CommandSpec = RunSpec | HoldSpec;

export const ok = (text: string, code?: string): Result => ({ status: "OK", text, code });
export const no = (text: string, code?: string): Result => ({ status: "NO", text, code });
export const bad = (text: string, code?: string): Result => ({ status: "BAD", text, code });

export const ANY: readonly State[] = ["notauth", "auth", "selected"];
export const AUTHED: readonly State[] = ["auth", "selected"];
export const SELECTED: readonly State[] = ["selected"];
