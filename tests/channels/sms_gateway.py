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

LOCK = threading.Lock()
STATE = {"n": 0, "script": []}
RANDOM = random.Random()
ARGS = None


def next_item():
    if STATE["script"]:
        return STATE["script"].pop(0)
    path = ARGS.script_file
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            items = [s.strip() for s in f.read().replace("\n", ",").split(",") if s.strip()]
        if items:
            with open(path + ".tmp", "w", encoding="utf-8") as f:
                f.write(",".join(items[1:]))
            os.rename(path + ".tmp", path)
            return items[0]
    rate = ARGS.fail_rate
    if ARGS.mode_file and os.path.exists(ARGS.mode_file):
        with open(ARGS.mode_file, encoding="utf-8") as f:
            mode = f.read().strip()
        rate = 1.0 if mode == "down" else 0.0 if mode == "ok" else float(mode or 0)
    return "503" if RANDOM.random() < rate else "200"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stdout.write("sms_gateway: " + (fmt % args) + "\n")
        sys.stdout.flush()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with LOCK:
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
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    print("sms_gateway listening on 127.0.0.1:%d" % port, flush=True)
    import signal

    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
