#!/usr/bin/python3
"""A real SMTP server for channel tests (aiosmtpd, Debian's python3-aiosmtpd).

Listens on 127.0.0.1, port 0 (chosen by the kernel), writes the port to
--port-file once it accepts connections, and for each message received writes
<out-dir>/<n>.eml (the raw message) and then <n>.json (n = 1, 2, ...):

  {"subject", "from", "to", "message_id", "date", "text", "html",
   "list_unsubscribe", "list_unsubscribe_post",
   "is_multipart", "content_type", "mail_from", "rcpt_tos", "auth_login",
   "tls", "defects", "max_line_length", "crlf_only"}

with headers decoded by Python's email package (policy=email.policy.default).
The .json file appears atomically (written to a temp name, then renamed).

Options: --user/--password require AUTH (PLAIN or LOGIN); --tls-cert/--tls-key
enable STARTTLS (required, and AUTH only after it) or, with --implicit-tls,
TLS from the first byte (smtps). --reject-rcpt S answers 550 and
--tempfail-rcpt S answers 451 to recipients containing S. For the first
message to a recipient containing S, after storing it: --stall-once S waits
--stall-seconds before its 250 (the client times out: an ambiguous send whose
message the server has), --drop-once S closes the connection without a reply.
Stops on SIGTERM.

Counting (failure tests): every message is counted, raw (never deduped), by
its Message-ID header. --delay-ms MIN[-MAX] waits a uniformly random time
before answering each message's DATA (after counting it), without holding up
other sessions. With --stats-file the counts are written there atomically
every --stats-interval-ms (when changed) and once more on SIGTERM:
  {"messages": N, "by_message_id": {id: n}, "without_message_id": n}
--out-dir may then be left out: no per-message files (no fsync per message).
"""

import argparse
import asyncio
import email
import email.parser
import email.policy
import itertools
import json
import os
import random
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from peer_common import parse_delay, replace_file


class PortZeroController(Controller):
    """Controller that binds port 0 and learns the port the kernel chose."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def part_content(msg, subtype):
    part = msg.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return None
    return part.get_content()


class Stats:
    """Raw counts by Message-ID, written to a file periodically and at the end."""

    def __init__(self, path, interval):
        self.path = path
        self.interval = interval
        self.lock = threading.Lock()
        self.counts = {"messages": 0, "by_message_id": {}, "without_message_id": 0}

    def count(self, raw):
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        message_id = headers["Message-ID"]
        with self.lock:
            self.counts["messages"] += 1
            if message_id is None:
                self.counts["without_message_id"] += 1
            else:
                ids = self.counts["by_message_id"]
                ids[message_id.strip()] = ids.get(message_id.strip(), 0) + 1

    def write(self):
        if not self.path:
            return
        with self.lock:
            data = json.dumps(self.counts, ensure_ascii=False).encode("utf-8")
        replace_file(self.path, data)

    def run_writer(self, stop):
        written = -1
        while not stop.wait(self.interval):
            if self.counts["messages"] != written:
                written = self.counts["messages"]
                self.write()


class Handler:
    def __init__(self, out_dir, reject_rcpt, tempfail_rcpt, stall_once=None, stall_seconds=0.0, drop_once=None,
                 stats=None, delay=(0.0, 0.0)):
        self.out_dir = out_dir
        self.reject_rcpt = reject_rcpt
        self.tempfail_rcpt = tempfail_rcpt
        self.stall_once = stall_once
        self.stall_seconds = stall_seconds
        self.drop_once = drop_once
        self.counter = itertools.count(1)
        self.lock = threading.Lock()
        self.stats = stats
        self.delay = delay
        self.random = random.Random()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_rcpt and self.reject_rcpt in address:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if self.tempfail_rcpt and self.tempfail_rcpt in address:
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content
        if self.stats is not None:
            self.stats.count(raw)
        if self.delay[1] > 0:
            await asyncio.sleep(self.random.uniform(*self.delay))
        if self.out_dir is not None:
            self.store(server, session, envelope, raw)
        rcpts = " ".join(envelope.rcpt_tos)
        if self.stall_once and self.stall_once in rcpts:
            self.stall_once = None
            await asyncio.sleep(self.stall_seconds)
        if self.drop_once and self.drop_once in rcpts:
            self.drop_once = None
            server.transport.abort()  # no reply to the message
        return "250 Message accepted for delivery"

    def store(self, server, session, envelope, raw):
        """Writes <n>.eml and <n>.json."""
        with self.lock:
            n = next(self.counter)
        base = os.path.join(self.out_dir, str(n))
        replace_file(base + ".eml", raw, durable=True)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        defects = [repr(d) for d in msg.defects]
        for part in msg.walk():
            defects.extend(repr(d) for d in part.defects)
        lines = raw.split(b"\r\n")
        auth = session.auth_data
        record = {
            "subject": str(msg["subject"]) if msg["subject"] is not None else None,
            "from": str(msg["from"]) if msg["from"] is not None else None,
            "to": str(msg["to"]) if msg["to"] is not None else None,
            "message_id": str(msg["message-id"]) if msg["message-id"] is not None else None,
            "date": str(msg["date"]) if msg["date"] is not None else None,
            "text": part_content(msg, "plain"),
            "html": part_content(msg, "html"),
            # RFC 8058 one-click unsubscribe headers (null when absent).
            "list_unsubscribe": str(msg["list-unsubscribe"]) if msg["list-unsubscribe"] is not None else None,
            "list_unsubscribe_post": (
                str(msg["list-unsubscribe-post"]) if msg["list-unsubscribe-post"] is not None else None
            ),
            "is_multipart": msg.is_multipart(),
            "content_type": msg.get_content_type(),
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "auth_login": auth.login.decode("utf-8", "replace") if isinstance(auth, LoginPassword) else None,
            # STARTTLS sets session.ssl; implicit TLS shows on the transport.
            "tls": session.ssl is not None
            or (server.transport is not None and server.transport.get_extra_info("ssl_object") is not None),
            "defects": defects,
            "max_line_length": max(len(line) for line in lines),
            # Every LF is part of a CRLF (no bare LF or CR).
            "crlf_only": raw.count(b"\n") == raw.count(b"\r\n") and raw.count(b"\r") == raw.count(b"\r\n"),
        }
        data = json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8")
        replace_file(base + ".json", data, durable=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port-file", required=True)
    p.add_argument("--out-dir", help="per-message .eml and .json files (optional with --stats-file)")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--reject-rcpt")
    p.add_argument("--tempfail-rcpt")
    p.add_argument("--stall-once")
    p.add_argument("--stall-seconds", type=float, default=3.0)
    p.add_argument("--drop-once")
    p.add_argument("--delay-ms", type=parse_delay, default=(0.0, 0.0), help="MIN or MIN-MAX before each answer")
    p.add_argument("--stats-file")
    p.add_argument("--stats-interval-ms", type=float, default=500)
    args = p.parse_args()
    if not args.out_dir and not args.stats_file:
        p.error("--out-dir is required unless --stats-file is given")
    if args.out_dir:
        os.makedirs(args.out_dir, exist_ok=True)

    kwargs = {}
    if args.user:

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login == args.user.encode()
                and auth_data.password == (args.password or "").encode()
            )
            return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

        kwargs.update(authenticator=authenticator, auth_required=True)
    tls_context = None
    if args.tls_cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)
    if tls_context is not None and args.implicit_tls:
        kwargs.update(ssl_context=tls_context, auth_require_tls=False)
    elif tls_context is not None:
        kwargs.update(tls_context=tls_context, require_starttls=True, auth_require_tls=True)
    else:
        kwargs.update(auth_require_tls=False)

    stats = Stats(args.stats_file, args.stats_interval_ms / 1000.0)
    handler = Handler(args.out_dir, args.reject_rcpt, args.tempfail_rcpt, args.stall_once, args.stall_seconds,
                      args.drop_once, stats, args.delay_ms)
    controller = PortZeroController(handler, hostname="127.0.0.1", port=0, **kwargs)
    controller.start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stats.write()
    writer_stop = threading.Event()
    threading.Thread(target=stats.run_writer, args=(writer_stop,), daemon=True).start()
    replace_file(args.port_file, str(controller.port).encode(), durable=True)
    print("smtp_sink listening on 127.0.0.1:%d" % controller.port, flush=True)
    while not stop.wait(1.0):
        pass
    controller.stop()
    writer_stop.set()
    stats.write()  # the final counts
    return 0


if __name__ == "__main__":
    sys.exit(main())
