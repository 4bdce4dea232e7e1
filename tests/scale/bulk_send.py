# Submit COUNT messages over CONNS parallel SMTP sessions (AUTH PLAIN, no TLS: loopback
# tests), each to rcpt<N>@DOMAIN with the Subject "SUBJ <N>". Prints the numbers accepted
# as one JSON list. Usage: bulk_send.py PORT USER PASS DOMAIN SUBJ FIRST COUNT CONNS
import json, smtplib, sys, threading

port, user, pw, domain, subj = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
first, count, conns = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
accepted, lock = [], threading.Lock()


def worker(k):
    s = smtplib.SMTP("127.0.0.1", port, timeout=60)
    s.login(user, pw)
    for n in range(first + k, first + count, conns):
        msg = f"From: {user}\r\nTo: rcpt{n}@{domain}\r\nSubject: {subj} {n}\r\n\r\nmessage {n}\r\n"
        try:
            s.sendmail(user, [f"rcpt{n}@{domain}"], msg)
            with lock:
                accepted.append(n)
        except smtplib.SMTPException as e:
            print(f"refused {n}: {e}", file=sys.stderr)
    s.quit()


threads = [threading.Thread(target=worker, args=(k,)) for k in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps(sorted(accepted)))
