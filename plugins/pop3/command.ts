// The command half of the parser: one line → keyword and arguments (RFC 1939 §3,
// RFC 2449 §3: keyword of 3-4 characters, arguments separated by spaces).

export interface Command {
  /** Upper-cased keyword, e.g. "RETR". */
  keyword: string;
  /** Everything after the first space, as sent (PASS may contain spaces: RFC 1939 §7). */
  rest: string;
  /** `rest` split on spaces. */
  args: string[];
}

export type ParseResult = { ok: true; cmd: Command } | { ok: false; error: string };

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function parseCommand(line: Uint8Array): ParseResult {
  // Control characters (NUL, CR in the middle …) never belong in a command line.
  let ascii = true;
  for (let i = 0; i < line.length; i++) {
    const b = line[i]!;
    if ((b < 0x20 && b !== 0x09) || b === 0x7f) return { ok: false, error: "Invalid characters in command" };
    if (b >= 0x80) ascii = false;
  }
  let text: string;
  if (ascii)
    text = String.fromCharCode.apply(null, line as unknown as number[]); // most lines: no decoder
  else {
    try {
      text = utf8.decode(line);
    } catch {
      return { ok: false, error: "Command is not valid UTF-8" };
    }
  }
  const sp = text.indexOf(" ");
  const word = sp < 0 ? text : text.slice(0, sp);
  if (!/^[A-Za-z]{3,4}$/.test(word)) return { ok: false, error: word === "" ? "Empty command" : "Unknown command" };
  const rest = sp < 0 ? "" : text.slice(sp + 1);
  const args = rest.split(/[ \t]+/).filter((a) => a !== "");
  return { ok: true, cmd: { keyword: word.toUpperCase(), rest, args } };
}

/** A message number or line count: decimal digits only (no sign, no spaces), bounded. */
export function parseNumber(s: string | undefined): number | null {
  if (s === undefined || !/^\d{1,9}$/.test(s)) return null;
  return Number(s);
}
