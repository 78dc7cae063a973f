"""What the Python test peers (smtp_sink.py, sms_gateway.py) share; they import it from their own folder."""

import argparse
import os


def parse_delay(text):
    """ "MIN" or "MIN-MAX" milliseconds -> (min, max) seconds (the peers' --delay-ms)."""
    lo, _, hi = text.partition("-")
    lo = float(lo)
    hi = float(hi) if hi else lo
    if lo < 0 or hi < lo:
        raise argparse.ArgumentTypeError("--delay-ms: expected MIN or MIN-MAX milliseconds, got %r" % text)
    return lo / 1000.0, hi / 1000.0


def replace_file(path, data, durable=False):
    """Writes the bytes `data` to `path` atomically: to path + ".tmp", then renamed over it. With `durable`
    the data reaches the disk (fsync) before the rename."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    os.rename(tmp, path)
