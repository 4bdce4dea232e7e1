// `kotakpos …` run in-process (main.ts) on a data directory, its output captured: the CLI
// as a user types it, without spawning a process.
import type { Io } from "../../core/cli/io.ts";
import { main } from "../../main.ts";

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI with `--data dataDir`; `stdin` answers --password-stdin and the like. */
export async function runCli(dataDir: string, args: string[], stdin = ""): Promise<CliResult> {
  let out = "";
  let err = "";
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), readStdin: async () => stdin, promptHidden: async () => null, env: {} };
  const code = await main([...args, "--data", dataDir], io);
  return { code, out, err };
}
