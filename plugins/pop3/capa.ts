// RFC 2449 §5-6: the CAPA list. It depends on the state and on the connection: STLS only
// before TLS (RFC 2595 §4), SASL mechanisms and USER only where a password may be sent
// (USER is refused until then, so it is not advertised, as IMAP's LOGINDISABLED says).

export function capabilities(o: { loggedIn: boolean; secure: boolean; credentialsAllowed: boolean }): string[] {
  const caps = ["TOP", "UIDL"];
  if (o.loggedIn || o.credentialsAllowed) caps.push("USER");
  caps.push("RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER");
  if (!o.loggedIn) {
    if (o.credentialsAllowed) caps.push("SASL PLAIN");
    if (!o.secure) caps.push("STLS");
  }
  caps.push("IMPLEMENTATION kotakpos");
  return caps;
}
