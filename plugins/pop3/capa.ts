// RFC 2449 §5-6: the CAPA list. It depends on the state and on the connection: STLS only
// before TLS (RFC 2595 §4), SASL mechanisms only where a password may be sent.

export function capabilities(o: { loggedIn: boolean; secure: boolean; credentialsAllowed: boolean }): string[] {
  const caps = ["TOP", "UIDL", "USER", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER"];
  if (!o.loggedIn) {
    if (o.credentialsAllowed) caps.push("SASL PLAIN");
    if (!o.secure) caps.push("STLS");
  }
  caps.push("IMPLEMENTATION kotakpos");
  return caps;
}
