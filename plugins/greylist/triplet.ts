// The greylisting triplet: the client's network (IPv4 /24, IPv6 /64: big senders retry
// from another address of the same pool), the envelope sender, the recipient.

export function clientNet(ip: string): string {
  const a = ip.replace(/^::ffff:/i, "");
  const v4 = /^(\d+\.\d+\.\d+)\.\d+$/.exec(a);
  if (v4) return `${v4[1]}.0/24`;
  const [head = "", tail = ""] = a.toLowerCase().split("::");
  const h = head ? head.split(":") : [];
  const t = a.includes("::") && tail ? tail.split(":") : [];
  const groups = [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill("0"), ...t];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** The part of the sender that stays the same across retries: VERP and SRS senders put a
 *  per-message tag in the local part, so only the domain counts for those. */
export function senderKey(address: string): string {
  const a = address.toLowerCase();
  const at = a.lastIndexOf("@");
  if (at < 0) return a;
  const local = a.slice(0, at);
  if (/^(srs[01][=+-]|prvs=|bounce[s]?[-+=]|.*[-+=][0-9a-f]{8,})/.test(local)) return `*${a.slice(at)}`;
  return a;
}
