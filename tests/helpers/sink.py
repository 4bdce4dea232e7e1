# An aiosmtpd handler for the delivery tests: each accepted message is written to
# OUTDIR as JSON (envelope + data); recipients "reject*" get 550, "tempfail*" get 451.
# Run: PYTHONPATH=tests/delivery /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c sink.Sink OUTDIR
import json, os, uuid


class Sink:
    def __init__(self, outdir):
        self.outdir = outdir

    @classmethod
    def from_cli(cls, parser, *args):
        return cls(args[0])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local.startswith("reject"):
            return "550 5.1.1 no such user"
        if local.startswith("tempfail"):
            return "451 4.3.0 try later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.append(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        rec = {
            "mailFrom": envelope.mail_from,
            "mailOptions": envelope.mail_options,
            "rcptTo": envelope.rcpt_tos,
            "rcptOptions": envelope.rcpt_options,
            "tls": session.ssl is not None,
            "helo": session.host_name,
            "peer": list(session.peer)[:2],
            "data": envelope.original_content.decode("utf-8", "surrogateescape"),
        }
        name = os.path.join(self.outdir, uuid.uuid4().hex)
        with open(name + ".tmp", "w") as f:
            json.dump(rec, f)
        os.rename(name + ".tmp", name + ".json")
        return "250 2.0.0 OK queued"
