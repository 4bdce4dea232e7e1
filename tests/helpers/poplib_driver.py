#!/usr/bin/env python3
"""Drive kotakpos with Python's poplib: a JSON list of operations in, a JSON list of
results out (one per operation). An operation is [cmd, *args], optionally prefixed by
"@name" to pick a session (default "a"). cmd is a poplib.POP3 method name or one of
open(plain|ssl|ssl-sni), stls, touch(path), waitfile(path), auth_plain(user, pw), raw(line), close (drop without QUIT).

usage: poplib_driver.py HOST PLAIN_PORT SSL_PORT OPS_JSON
"""
import base64
import json
import os
import poplib
import ssl
import sys
import time

host, plain_port, ssl_port, ops = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])


def insecure_ctx():
    # The test server's certificate is self-signed.
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def plain(x):
    if isinstance(x, bytes):
        return x.decode("latin1")
    if isinstance(x, (list, tuple)):
        return [plain(i) for i in x]
    if isinstance(x, dict):
        return {plain(k): plain(v) for k, v in x.items()}
    return x


sessions = {}
out = []
for op in ops:
    name = "a"
    if op and op[0].startswith("@"):
        name, op = op[0][1:], op[1:]
    cmd, args = op[0], op[1:]
    try:
        if cmd == "touch":  # signal another process (a test's IMAP client)
            open(args[0], "w").close()
            out.append({"ok": None})
            continue
        if cmd == "waitfile":  # wait for another process's signal
            deadline = time.time() + 20
            while not os.path.exists(args[0]) and time.time() < deadline:
                time.sleep(0.01)
            out.append({"ok": os.path.exists(args[0])})
            continue
        if cmd == "open":
            if args[0] in ("ssl", "ssl-sni"):
                # "ssl-sni" connects by name, so the client sends SNI ("localhost");
                # "ssl" connects by IP address, and clients send no SNI then.
                s = poplib.POP3_SSL("localhost" if args[0] == "ssl-sni" else host, ssl_port, context=insecure_ctx(), timeout=20)
                sessions[name] = s
                res = [s.getwelcome(), s.sock.version()]
            else:
                s = poplib.POP3(host, plain_port, timeout=20)
                sessions[name] = s
                res = s.getwelcome()
        else:
            s = sessions[name]
            if cmd == "stls":
                res = [s.stls(context=insecure_ctx()), s.sock.version()]
            elif cmd == "auth_plain":
                token = base64.b64encode(b"\0" + args[0].encode() + b"\0" + args[1].encode()).decode()
                res = s._shortcmd("AUTH PLAIN " + token)
            elif cmd == "raw":
                res = s._shortcmd(args[0])
            elif cmd == "rawlong":
                res = s._longcmd(args[0])
            elif cmd == "close":
                s.close()
                res = None
            elif cmd == "eof":
                # After the server hangs up, a read gives EOF (b"").
                res = s.file.readline()
            else:
                res = getattr(s, cmd)(*args)
        out.append({"ok": plain(res)})
    except poplib.error_proto as e:
        out.append({"err": plain(e.args[0])})
    except Exception as e:  # noqa: BLE001 - report every failure to the test
        out.append({"exc": f"{type(e).__name__}: {e}"})
print(json.dumps(out))
