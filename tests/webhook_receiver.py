#!/usr/bin/env python3
"""A webhook receiver for tests/webhook_test.cc and ops/bench/webhook.

Verifies each delivery's Standard Webhooks signature on its own (hmac and
hashlib, nothing of pgxnd) and appends one JSON line per request to --log:
{"path", "id", "timestamp", "valid", "type", "dist", "seq", "status",
"received"}. How it answers depends on the path's first segment:

  /ok...        200
  /flaky...     500 for the first N requests (POST /_fail?path=P&count=N), then 200
  /slow...      200 after 0.2 s
  /hang...      blocks until POST /_release, then 200 (logs "hang-start" first)
  /redirect...  302 to /redirected

POST /_secret?path=P with the secret as body tells it the secret of path P.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
secrets = {}
failures = {}
released = threading.Event()
log_file = None


def log(entry):
    with lock:
        log_file.write(json.dumps(entry) + "\n")
        log_file.flush()


def verify(secret, msg_id, timestamp, body, header):
    if not secret or not secret.startswith("whsec_"):
        return False
    key = base64.b64decode(secret[len("whsec_"):])
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    # The header may carry several space-separated signatures.
    return any(
        part.startswith("v1,") and hmac.compare_digest(part[3:], expected)
        for part in header.split(" "))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/_secret":
            with lock:
                secrets[query["path"]] = body.decode()
            return self.answer(200)
        if url.path == "/_fail":
            with lock:
                failures[query["path"]] = int(query["count"])
            return self.answer(200)
        if url.path == "/_release":
            released.set()
            return self.answer(200)

        msg_id = self.headers.get("webhook-id", "")
        timestamp = self.headers.get("webhook-timestamp", "")
        with lock:
            secret = secrets.get(url.path)
        entry = {
            "path": url.path,
            "id": msg_id,
            "timestamp": timestamp,
            "valid": verify(secret, msg_id, timestamp, body,
                            self.headers.get("webhook-signature", "")),
            "received": time.time(),
        }
        try:
            event = json.loads(body)
            entry.update(type=event.get("type"), dist=event.get("dist"), seq=event.get("seq"))
        except ValueError:
            entry["type"] = None
        kind = url.path.strip("/").split("/")[0]
        status, headers = 200, ()
        if kind.startswith("flaky"):
            with lock:
                left = failures.get(url.path, 0)
                if left > 0:
                    failures[url.path] = left - 1
                    status = 500
        elif kind.startswith("slow"):
            time.sleep(0.2)
        elif kind.startswith("hang"):
            log(dict(entry, status="hang-start"))
            released.wait()
        elif kind.startswith("redirect"):
            status, headers = 302, (("Location", "/redirected"),)
        entry["status"] = status
        log(entry)
        self.answer(status, headers)


def main():
    global log_file
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    log_file = open(args.log, "a", encoding="utf-8")
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
