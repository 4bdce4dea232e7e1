// Passwords come from --password-stdin or a no-echo prompt, never from the command line
// (it would show in `ps` and shell history).
import type { Io } from "./io.ts";
import { CommandError, UsageError } from "./errors.ts";

/** Longest password accepted (argon2 input; a bound like everything else). */
const MAX_PASSWORD = 1024;

function check(pw: string): string {
  if (pw.length === 0) throw new CommandError("the password is empty");
  if (pw.length > MAX_PASSWORD) throw new CommandError(`the password is longer than ${MAX_PASSWORD} characters`);
  return pw;
}

export async function readPassword(io: Io, fromStdin: boolean, what: string): Promise<string> {
  if (fromStdin) {
    // The first line of stdin, without its line ending (echo 'pw' | kotakpos …).
    const text = await io.readStdin();
    return check(text.split(/\r?\n/)[0] ?? "");
  }
  const first = await io.promptHidden(`Password for ${what}: `);
  if (first === null) throw new UsageError("no terminal to ask for the password: use --password-stdin");
  check(first);
  const again = await io.promptHidden("Repeat the password: ");
  if (again !== first) throw new CommandError("the passwords do not match");
  return first;
}
