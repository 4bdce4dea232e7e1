# A python3 smtplib client for the SMTP e2e tests: python3 send.py PORT JSON.
# JSON: {from, to: [...], msg, host?, ssl?, starttls?, login?: [user, pw], mail_options?, rcpt_options?}
# Prints one JSON line: {ok, refused} or {ok: false, error, code, msg}.
import json
import smtplib
import ssl
import sys

port = int(sys.argv[1])
a = json.loads(sys.argv[2])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # the test server's certificate is self-signed

out = {}
s = None
try:
    if a.get("ssl"):
        # "localhost" rather than the IP so that the client sends SNI, as real clients do.
        s = smtplib.SMTP_SSL(a.get("host", "127.0.0.1"), port, context=ctx, timeout=20)
    else:
        s = smtplib.SMTP("127.0.0.1", port, timeout=20)
    s.ehlo("py.client.test")
    out["esmtp_features"] = sorted(s.esmtp_features.keys())
    if a.get("starttls"):
        s.starttls(context=ctx)
        s.ehlo("py.client.test")
        out["esmtp_features"] = sorted(s.esmtp_features.keys())
    if a.get("login"):
        s.login(a["login"][0], a["login"][1])
    refused = s.sendmail(a["from"], a["to"], a["msg"].encode("utf-8"), mail_options=a.get("mail_options", []), rcpt_options=a.get("rcpt_options", []))
    out.update(ok=True, refused={k: [v[0], v[1].decode()] for k, v in refused.items()})
except smtplib.SMTPRecipientsRefused as e:
    out.update(ok=False, error="SMTPRecipientsRefused", recipients={k: [v[0], v[1].decode()] for k, v in e.recipients.items()})
except smtplib.SMTPResponseException as e:
    err = e.smtp_error.decode(errors="replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
    out.update(ok=False, error=type(e).__name__, code=e.smtp_code, msg=err)
except smtplib.SMTPException as e:
    out.update(ok=False, error=type(e).__name__, msg=str(e))
try:
    if s is not None:
        s.quit()
except Exception:
    pass
print(json.dumps(out))
