// The CLI's view of the outside world, so commands can run in-process in tests.
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Standard input, at least its first line (for --password-stdin). */
  readStdin(): Promise<string>;
  /** Ask on the terminal without echo; null when stdin is not a terminal. */
  promptHidden(prompt: string): Promise<string | null>;
  env: Record<string, string | undefined>;
  /** Standard error is a terminal (progress bars redraw in place). */
  errIsTTY?: boolean;
}

/** Read one line from a TTY in raw mode, echoing nothing (passwords). */
function promptTty(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let buf = "";
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
      if (err) reject(err);
      else resolve(buf);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003" || ch === "\u0004") return done(new Error("cancelled"));
        if (ch === "\u007f" || ch === "\b") buf = buf.slice(0, -1);
        else if (ch >= " ") buf += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}

/** Standard input up to the first line end (or MAX_STDIN bytes): a password needs no more,
 *  and a file piped in by mistake is not read whole. */
const MAX_STDIN = 64 * 1024;
async function readStdinLine(): Promise<string> {
  let text = "";
  const dec = new TextDecoder();
  for await (const chunk of Bun.stdin.stream()) {
    text += dec.decode(chunk, { stream: true });
    if (text.includes("\n") || text.length > MAX_STDIN) break;
  }
  return text;
}

export const processIo: Io = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  readStdin: readStdinLine,
  promptHidden: async (prompt) => (process.stdin.isTTY ? promptTty(prompt) : null),
  env: process.env,
  errIsTTY: Boolean(process.stderr.isTTY),
};
