#!/usr/bin/env python3
"""A stand-in for the REST service the HTTP database engine asks (Tests/e2e/test-httpdb.sh).

Answers POSTed JSON lookups {"mac": ..., ...}: the client interface's MAC gets a definition,
02:00:00:00:00:0e gets a 500, anything else a 404. Every request is appended to --log as one
JSON line (method, path, headers, body), so the test can check what the daemon sent.
"""
import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFINITIONS = {
    "02:00:00:00:00:01": {
        "ip": "192.0.2.10", "subnet": "192.0.2.0/24", "lease_time": 1800, "hostname": "alpha",
        "gateway": ["192.0.2.1"], "subnet_mask": "255.255.255.0", "domain_name": "example.org",
        "extra": {"rack": 4},
    },
}
FAILING = "02:00:00:00:00:0e"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    options = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            with open(options.log, "a") as log:
                log.write(json.dumps({"method": "POST", "path": self.path,
                                      "headers": dict(self.headers), "body": body}) + "\n")
            mac = json.loads(body).get("mac")
            if mac == FAILING:
                self.answer(500, "lookup backend on fire")
            elif mac in DEFINITIONS:
                self.answer(200, json.dumps(DEFINITIONS[mac]))
            else:
                self.answer(404, "null")

        def answer(self, status, text):
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", options.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
