#!/usr/bin/python3
# Log in with Python's own clients from a chosen source address (127.0.0.x), as an
# attacker or the owner would:  login.py PROTO PORT SOURCE_IP USER PASSWORD [COUNT]
# PROTO: smtp (smtplib AUTH PLAIN), imap (imaplib LOGIN), pop3 (poplib USER/PASS).
# Prints a JSON list, one {"ok": bool, "reply": "..."} per attempt (a new connection each).
import imaplib
import json
import poplib
import smtplib
import socket
import sys

proto, port, src, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
count = int(sys.argv[6]) if len(sys.argv) > 6 else 1


class Imap(imaplib.IMAP4):
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=(src, 0))


class Pop(poplib.POP3):
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=(src, 0))


def attempt():
    try:
        if proto == "smtp":
            s = smtplib.SMTP("127.0.0.1", port, timeout=20, source_address=(src, 0))
            s.ehlo("client.test")
            try:
                code, msg = s.docmd("AUTH", "PLAIN " + __import__("base64").b64encode(("\0" + user + "\0" + pw).encode()).decode())
                return {"ok": code == 235, "reply": f"{code} {msg.decode(errors='replace')}"}
            finally:
                try:
                    s.quit()
                except Exception:
                    pass
        if proto == "imap":
            m = Imap("127.0.0.1", port, timeout=20)
            try:
                # Both as quoted strings, so a name with spaces arrives as sent.
                typ, data = m._simple_command("LOGIN", m._quote(user), m._quote(pw))
                m.logout()
                return {"ok": typ == "OK", "reply": f"{typ} {data[0].decode(errors='replace')}"}
            except imaplib.IMAP4.error as e:
                return {"ok": False, "reply": f"NO {e}"}
        if proto == "pop3":
            p = Pop("127.0.0.1", port, timeout=20)
            try:
                p.user(user)
                r = p.pass_(pw)
                p.quit()
                return {"ok": True, "reply": r.decode(errors="replace")}
            except poplib.error_proto as e:
                return {"ok": False, "reply": e.args[0].decode(errors="replace") if isinstance(e.args[0], bytes) else str(e)}
    except (OSError, smtplib.SMTPException, EOFError) as e:
        return {"ok": False, "reply": f"connection: {e}"}


print(json.dumps([attempt() for _ in range(count)]))
