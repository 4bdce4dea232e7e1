// An immediate TCP ACK (Linux TCP_QUICKACK), for the one moment where a delayed ACK stalls a
// session: after a TLS 1.3 handshake the server has nothing to send until the client's first
// command, and a client with Nagle on (Python's imaplib/smtplib, many MUAs) holds that command
// until its Finished is ACKed: ~40 ms per STARTTLS. OpenSSL servers (Dovecot, Postfix) send
// session tickets then, which carry the ACK; Bun's TLS does not. Setting TCP_QUICKACK sends a
// pending ACK at once (Linux tcp(7)). Through bun:ffi; where that fails (no glibc, not Linux)
// it does nothing.
import { dlopen, FFIType } from "bun:ffi";

const IPPROTO_TCP = 6;
const TCP_QUICKACK = 12;
const one = new Int32Array([1]);
let setsockopt: ((fd: number, level: number, name: number, value: Int32Array, len: number) => number) | null | undefined;

function load(): typeof setsockopt {
  if (process.platform !== "linux") return null;
  try {
    const lib = dlopen("libc.so.6", { setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 } });
    return lib.symbols.setsockopt as unknown as typeof setsockopt;
  } catch {
    return null;
  }
}

/** ACK what the socket has received, now (best effort). */
export function ackNow(fd: number | undefined): void {
  if (fd === undefined || fd < 0) return;
  if (setsockopt === undefined) setsockopt = load();
  setsockopt?.(fd, IPPROTO_TCP, TCP_QUICKACK, one, 4);
}
