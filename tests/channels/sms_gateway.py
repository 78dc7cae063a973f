#!/usr/bin/python3
"""A scripted HTTP SMS gateway for channel tests (standard library only).

Listens on 127.0.0.1, port 0 (or --bind-port), writes the port to --port-file once it accepts
connections, and appends every request to --log as one JSON line
{"n", "method", "path", "headers" (names lower-cased), "body"} BEFORE
answering it.

Answers are scripted: first the comma-separated --script items, then items
taken one by one from the front of --script-file (a test may append to it while
the gateway runs), then the default. The default is "200", or with --fail-rate
R a "503" for a random share R of the requests (seeded by --seed). A test may
change it while the gateway runs by writing --mode-file: "down" (every request
503), "ok" (every request 200) or a failure rate such as "0.3". Items:
  200 (default)  200 {"message_id": "gw-<n>"}     200-noid   200 {"status": "queued"}
  200-num        200 {"message_id": <n>}          <code>     that status, {"error": "..."}
  timeout        sleep --timeout-sleep seconds (longer than the client's timeout), then 500
  close          close the connection without an answer
Every request's headers are recorded (an idempotency key among them). With
--tls-cert/--tls-key it speaks https.

Counting (failure tests): every request is counted, raw (the gateway never
dedupes), by the message id in the body field --id-field (default
"reference"; JSON or form body) and by the --idempotency-header value
(default Idempotency-Key). --delay-ms MIN[-MAX] waits a uniformly random time
before each answer (after counting it). The counts are served at GET /stats
and, with --stats-file, written there atomically every --stats-interval-ms
(when changed) and once more on SIGTERM:
  {"requests": N, "by_message_id": {id: n}, "without_message_id": n,
   "by_idempotency_key": {key: n}, "without_idempotency_key": n}
"""

import argparse
import http.server
import json
import os
import random
import ssl
import sys
import threading
import time
import urllib.parse

from peer_common import parse_delay, replace_file

LOCK = threading.Lock()
STATE = {"n": 0, "script": []}
RANDOM = random.Random()
DELAY_RANDOM = random.Random()  # its own stream: --seed keeps scripting the same answers
ARGS = None
STATS = {"requests": 0, "by_message_id": {}, "without_message_id": 0, "by_idempotency_key": {},
         "without_idempotency_key": 0}


def body_message_id(headers, body):
    """The --id-field value of a JSON or form body, or None."""
    try:
        if "json" in (headers.get("Content-Type") or ""):
            value = json.loads(body.decode("utf-8")).get(ARGS.id_field)
        else:
            value = (urllib.parse.parse_qs(body.decode("utf-8")).get(ARGS.id_field) or [None])[0]
    except (ValueError, AttributeError):
        return None
    return None if value is None else str(value)


def count(headers, body):
    """Counts one request (call with LOCK held)."""
    STATS["requests"] += 1
    for key, value in (("message_id", body_message_id(headers, body)),
                       ("idempotency_key", headers.get(ARGS.idempotency_header))):
        if value is None:
            STATS["without_" + key] += 1
        else:
            STATS["by_" + key][value] = STATS["by_" + key].get(value, 0) + 1


def stats_json():
    with LOCK:
        return json.dumps(STATS, ensure_ascii=False)


def write_stats():
    replace_file(ARGS.stats_file, stats_json().encode("utf-8"))


def stats_writer(stop):
    written = -1
    while not stop.wait(ARGS.stats_interval_ms / 1000.0):
        if STATS["requests"] != written:
            written = STATS["requests"]
            write_stats()


def next_item():
    if STATE["script"]:
        return STATE["script"].pop(0)
    path = ARGS.script_file
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            items = [s.strip() for s in f.read().replace("\n", ",").split(",") if s.strip()]
        if items:
            replace_file(path, ",".join(items[1:]).encode("utf-8"))
            return items[0]
    rate = ARGS.fail_rate
    if ARGS.mode_file and os.path.exists(ARGS.mode_file):
        with open(ARGS.mode_file, encoding="utf-8") as f:
            mode = f.read().strip()
        rate = 1.0 if mode == "down" else 0.0 if mode == "ok" else float(mode or 0)
    return "503" if RANDOM.random() < rate else "200"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The headers and the body go out in two writes: without TCP_NODELAY the
    # body waits for the client's delayed ACK (40 ms per kept-alive request).
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        sys.stdout.write("sms_gateway: " + (fmt % args) + "\n")
        sys.stdout.flush()

    def do_GET(self):
        if self.path != "/stats":
            self.answer(404, {"error": "not found"})
            return
        data = stats_json().encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with LOCK:
            count(self.headers, body)
            STATE["n"] += 1
            n = STATE["n"]
            item = next_item()
            record = {
                "n": n,
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
                "answer": item,
            }
            with open(ARGS.log, "a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                f.flush()
        lo, hi = ARGS.delay_ms
        if hi > 0:
            time.sleep(DELAY_RANDOM.uniform(lo, hi))
        if item == "close":
            self.close_connection = True
            return
        if item == "timeout":
            time.sleep(ARGS.timeout_sleep)
            self.answer(500, {"error": "late"})
            return
        if item == "200-noid":
            self.answer(200, {"status": "queued"})
        elif item == "200-num":
            self.answer(200, {"message_id": n})
        elif item == "200":
            self.answer(200, {"message_id": "gw-%d" % n, "status": "queued"})
        else:
            code = int(item)
            self.answer(code, {"error": "scripted %d for +966501234567" % code})

    def answer(self, code, obj):
        data = json.dumps(obj).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--script", default="")
    p.add_argument("--script-file")
    p.add_argument("--timeout-sleep", type=float, default=3.0)
    p.add_argument("--fail-rate", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--mode-file")
    p.add_argument("--bind-port", type=int, default=0)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--delay-ms", type=parse_delay, default=(0.0, 0.0), help="MIN or MIN-MAX before each answer")
    p.add_argument("--id-field", default="reference", help="body field holding the message id")
    p.add_argument("--idempotency-header", default="Idempotency-Key")
    p.add_argument("--stats-file")
    p.add_argument("--stats-interval-ms", type=float, default=500)
    ARGS = p.parse_args()
    RANDOM.seed(ARGS.seed)
    STATE["script"] = [s.strip() for s in ARGS.script.split(",") if s.strip()]
    open(ARGS.log, "a").close()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", ARGS.bind_port), Handler)
    server.daemon_threads = True
    if ARGS.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(ARGS.tls_cert, ARGS.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    replace_file(ARGS.port_file, str(port).encode())
    print("sms_gateway listening on 127.0.0.1:%d" % port, flush=True)
    import signal

    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    stop = threading.Event()
    if ARGS.stats_file:
        write_stats()
        threading.Thread(target=stats_writer, args=(stop,), daemon=True).start()
    server.serve_forever()
    stop.set()
    if ARGS.stats_file:
        write_stats()  # the final counts
    return 0


if __name__ == "__main__":
    sys.exit(main())
