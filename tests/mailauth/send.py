# python3 smtplib client for the mailauth e2e tests: send.py PORT JSON
# JSON: {helo, from, to: [...], msg, starttls?, login?: [user, pw], source?: "127.0.0.x"}
# Prints one JSON line: {"ok": true} or {"ok": false, "code": N, "msg": "..."}.
import json
import smtplib
import ssl
import sys

port = int(sys.argv[1])
a = json.loads(sys.argv[2])
out = {}
try:
    s = smtplib.SMTP("127.0.0.1", port, timeout=20, source_address=(a["source"], 0) if a.get("source") else None)
    s.ehlo(a.get("helo", "client.test"))
    if a.get("starttls"):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # self-signed test certificate
        s.starttls(context=ctx)
        s.ehlo(a.get("helo", "client.test"))
    if a.get("login"):
        s.login(*a["login"])
    s.sendmail(a["from"], a["to"], a["msg"].encode("latin-1"))
    out["ok"] = True
    s.quit()
except smtplib.SMTPResponseException as e:
    out.update(ok=False, code=e.smtp_code, msg=e.smtp_error.decode(errors="replace"))
except smtplib.SMTPRecipientsRefused as e:
    r = list(e.recipients.values())[0]
    out.update(ok=False, code=r[0], msg=r[1].decode(errors="replace"))
print(json.dumps(out))
