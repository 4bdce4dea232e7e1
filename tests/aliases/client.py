# One SMTP transaction with Python's smtplib, reported as JSON: the reply to MAIL, to each
# RCPT, and to DATA (when a recipient was accepted). Used by the aliases e2e tests.
# usage: client.py PORT FROM RCPT [RCPT ...]   env: AUTH_USER, AUTH_PASS (optional)
import json, os, smtplib, sys

port, sender, rcpts = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
out = {"rcpts": []}
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
s.ehlo("client.test")
if os.environ.get("AUTH_USER"):
    s.login(os.environ["AUTH_USER"], os.environ["AUTH_PASS"])
code, msg = s.mail(sender)
out["mail"] = [code, msg.decode()]
ok = False
if code == 250:
    for r in rcpts:
        c, m = s.rcpt(r)
        out["rcpts"].append([c, m.decode()])
        ok = ok or c == 250
if ok:
    body = "From: <%s>\r\nTo: <%s>\r\nSubject: aliases test\r\nMessage-ID: <%s@client.test>\r\n\r\nhello\r\n" % (sender or "mailer-daemon@client.test", rcpts[0], os.getpid())
    c, m = s.data(body.encode())
    out["data"] = [c, m.decode()]
else:
    s.rset()
s.quit()
print(json.dumps(out))
