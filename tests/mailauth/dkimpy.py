#!/usr/bin/python3
# An independent DKIM implementation for the tests: Debian's python3-dkim (dkimpy).
#   verify DNS_HOST DNS_PORT < message  -> JSON list, one {"ok": bool, "d": .., "s": .., "a": ..} per signature
#   arc-verify DNS_HOST DNS_PORT < message -> {"cv": "pass"|"fail"|"none", "comment": ...}
#   sign SELECTOR DOMAIN KEYFILE ALG    < message  -> the DKIM-Signature field (CRLF-terminated)
# Keys are looked up over DNS at DNS_HOST:DNS_PORT (the test DNS server) with dnspython.
import json
import sys

import dkim
import dns.resolver


def dnsfunc_for(host, port):
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = [host]
    r.port = int(port)
    r.lifetime = 5

    def get_txt(name, timeout=5):
        qname = name.decode() if isinstance(name, bytes) else name
        try:
            ans = r.resolve(qname.rstrip("."), "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        # One record, its character-strings joined (RFC 6376 §3.6.2.2).
        return b"".join(ans[0].strings)

    return get_txt


def main():
    mode = sys.argv[1]
    msg = sys.stdin.buffer.read()
    if mode == "verify":
        dnsfunc = dnsfunc_for(sys.argv[2], sys.argv[3])
        d = dkim.DKIM(msg)
        out = []
        n = sum(1 for k, _ in d.headers if k.lower() == b"dkim-signature")
        for i in range(n):
            d = dkim.DKIM(msg)
            try:
                ok = d.verify(idx=i, dnsfunc=dnsfunc)
            except Exception as e:  # a broken signature is a failure, not a crash
                ok = False
            sig = d.signature_fields or {}
            out.append({
                "ok": bool(ok),
                "d": (sig.get(b"d") or b"").decode(),
                "s": (sig.get(b"s") or b"").decode(),
                "a": (sig.get(b"a") or b"").decode(),
            })
        print(json.dumps(out))
    elif mode == "arc-verify":
        dnsfunc = dnsfunc_for(sys.argv[2], sys.argv[3])
        cv, results, comment = dkim.arc_verify(msg, dnsfunc=dnsfunc)
        print(json.dumps({"cv": cv.decode() if isinstance(cv, bytes) else str(cv), "comment": comment}))
    elif mode == "sign":
        selector, domain, keyfile, alg = sys.argv[2:6]
        key = open(keyfile, "rb").read()
        sig = dkim.sign(
            msg,
            selector.encode(),
            domain.encode(),
            key,
            canonicalize=(b"relaxed", b"relaxed"),
            signature_algorithm=alg.encode(),
            include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
        )
        sys.stdout.buffer.write(sig)
    else:
        sys.exit("unknown mode")


main()
