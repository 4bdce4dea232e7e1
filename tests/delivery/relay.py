# A smarthost for the relay tests, built on aiosmtpd (Debian python3-aiosmtpd): STARTTLS
# required, AUTH required (PLAIN/LOGIN, only over TLS), then each message is forwarded to
# a next hop with smtplib and recorded in OUTDIR as JSON (envelope, auth user, TLS).
# Run: /usr/bin/python3 relay.py PORT OUTDIR NEXT_PORT USER PASSWORD CERT KEY [--no-tls]
import asyncio, json, os, smtplib, ssl, sys, uuid
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, outdir, next_port, user, password, cert, key = sys.argv[1:8]
no_tls = "--no-tls" in sys.argv


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


class Forward:
    async def handle_DATA(self, server, session, envelope):
        try:
            with smtplib.SMTP("127.0.0.1", int(next_port), timeout=20) as s:
                s.sendmail(envelope.mail_from, envelope.rcpt_tos, envelope.original_content)
        except smtplib.SMTPException as e:
            return f"451 4.4.0 next hop failed: {e}"
        auth = session.auth_data
        rec = {"mailFrom": envelope.mail_from, "rcptTo": envelope.rcpt_tos, "tls": session.ssl is not None,
               "authUser": auth.login.decode() if isinstance(auth, LoginPassword) else None}
        name = os.path.join(outdir, uuid.uuid4().hex)
        with open(name + ".tmp", "w") as f:
            json.dump(rec, f)
        os.rename(name + ".tmp", name + ".json")
        return "250 2.0.0 relayed"


kw = dict(hostname="127.0.0.1", port=int(port), authenticator=authenticator, auth_required=True)
if no_tls:
    kw.update(auth_require_tls=False)
else:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    kw.update(tls_context=ctx, require_starttls=True, auth_require_tls=True)
c = Controller(Forward(), **kw)
c.start()
print("ready", flush=True)
try:
    sys.stdin.read()
finally:
    c.stop()
