# The delivery tests' aiosmtpd sink (tests/delivery/sink.py), slowed down while a file
# OUTDIR/delay holds a number of seconds: each DATA waits that long before its 250, so a
# sender is caught in the middle of its deliveries.
import asyncio, os
from sink import Sink


class SlowSink(Sink):
    async def handle_DATA(self, server, session, envelope):
        p = os.path.join(self.outdir, "delay")
        if os.path.exists(p):
            with open(p) as f:
                await asyncio.sleep(float(f.read() or 0))
        return await super().handle_DATA(server, session, envelope)
