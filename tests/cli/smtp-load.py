# SMTP load for the backup test: python3 smtp-load.py PORT RCPT; sends numbered messages
# over one smtplib connection until stdin closes, printing "ACK n" after each 250.
import select
import smtplib
import sys

port, rcpt = int(sys.argv[1]), sys.argv[2]
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
s.ehlo("load.client.test")
n = 0
while True:
    r, _, _ = select.select([sys.stdin], [], [], 0)
    if r and sys.stdin.readline() == "":
        break
    n += 1
    body = "".join(f"line {i} of message {n}: the quick brown fox\r\n" for i in range(40))
    msg = f"From: load@remote.test\r\nTo: {rcpt}\r\nSubject: load {n}\r\nMessage-ID: <load-{n}@remote.test>\r\n\r\n{body}"
    s.sendmail("load@remote.test", [rcpt], msg.encode())
    print(f"ACK {n}", flush=True)
s.quit()
