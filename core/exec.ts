// Replace this process with a new run of a program, keeping its pid, open standard streams
// and environment: execve(2) from the C library through bun:ffi (Bun has no exec).
// Used by the first start (core/first-start.ts) to shed the one-time work's memory.
import { dlopen, FFIType, ptr } from "bun:ffi";

/** NUL-terminated bytes of a C string. */
const cString = (s: string): Buffer => Buffer.from(`${s}\0`);

/** A NULL-terminated array of pointers to the strings (the buffers must stay referenced). */
function cArray(bufs: Buffer[]): BigUint64Array {
  const out = new BigUint64Array(bufs.length + 1);
  for (let i = 0; i < bufs.length; i++) out[i] = BigInt(ptr(bufs[i]!));
  return out;
}

/** execve(argv[0], argv, env). Returns only if it failed, with the reason. */
export function execProcess(argv: string[], env: Record<string, string | undefined>): string {
  if (process.platform !== "linux") return `exec is not supported on ${process.platform}`;
  let libc;
  try {
    libc = dlopen("libc.so.6", { execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 } });
  } catch (err) {
    return `no libc.so.6: ${(err as Error).message}`;
  }
  const args = argv.map(cString);
  const vars = Object.entries(env)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => cString(`${k}=${v}`));
  const argp = cArray(args);
  const envp = cArray(vars);
  libc.symbols.execve(ptr(args[0]!), ptr(argp), ptr(envp));
  // Still here: execve failed (errno is not reachable from here, the file is named instead).
  libc.close();
  return `execve ${argv[0]} failed`;
}
