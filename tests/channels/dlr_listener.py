#!/usr/bin/python3
"""Records HTTP GET callbacks (Kannel's dlr-url) for channel tests (standard library only).

Listens on 127.0.0.1, port 0, writes the port to --port-file once it accepts connections, and
appends every GET as one JSON line {"path", "query": {name: value}} (the query decoded) to
--log, then answers 200.
"""

import argparse
import http.server
import json
import urllib.parse

from peer_common import replace_file

ARGS = None


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        parts = urllib.parse.urlsplit(self.path)
        record = {"path": parts.path, "query": dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))}
        with open(ARGS.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    ARGS = p.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    replace_file(ARGS.port_file, str(server.server_port).encode())
    server.serve_forever()


if __name__ == "__main__":
    main()
