#!/usr/bin/env python3
"""A loopback HTTP/1.1 reverse proxy that injects faults, for strata's
registry client tests.

Sits in front of --upstream (http://127.0.0.1:PORT) and forwards every
request faithfully: method, target, headers (Authorization too; Host is set
to the upstream's), bodies streamed both ways, and Location headers
rewritten from the upstream's scheme://host:port to the proxy's, so a
client that follows them keeps talking to the proxy.

Faults come from a rule list: --faults JSON at start, or replaced at any
time with POST /__faults (body: the JSON list). A rule:

  {"fault": "status",        "status": 500}            answer 500 itself
  {"fault": "status",        "status": 429,            answer 429 with
   "retry_after": "1"}                                 Retry-After: 1
  {"fault": "cut_response",  "after": K}               forward, but close the
                                                       connection after K
                                                       bytes of the body
  {"fault": "cut_request",   "after": K}               read K bytes of the
                                                       request body, then
                                                       close; nothing is
                                                       forwarded
  plus, all optional:
  "method": "GET"     only this method (default any)
  "path": "regex"     re.search on the request target, query included
                      (default any)
  "times": N          fire N times (default 1), then the rule is spent
  "skip": M           let the first M matching requests through first

The first matching rule that is not spent applies. Control endpoints (not
forwarded, not logged):

  POST   /__faults  replace the rules           -> 200 {"rules": N}
  GET    /__faults  the rules with what is left -> 200 [rule, ...]
  GET    /__log     every request so far, in arrival order, once those
                    in flight are done (at most 10 s) -> 200
                    [{"seq", "method", "path", "range", "content_range",
                      "status" (sent to the client; 0 if none),
                      "request_bytes" (body bytes received from the client),
                      "response_bytes" (body bytes sent to the client),
                      "cut" (the connection was cut), "fault" (its kind or
                      null)}, ...]
  DELETE /__log     forget the log (after the same wait) -> 200 {}

The first stdout line is "listening on 127.0.0.1:PORT" (binds port 0 by
default). Nothing else is printed per request, so a caller need not drain
stdout. --max-lifetime bounds the process's life on top of the `timeout`
the caller runs it under. Python 3 stdlib only; loopback only.
"""

import argparse
import http.client
import http.server
import json
import os
import re
import socket
import sys
import threading
import urllib.parse

# Hop-by-hop headers (RFC 9110 7.6.1): never forwarded as they are.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te",
              "trailer", "transfer-encoding", "upgrade"}
KINDS = ("status", "cut_response", "cut_request")
BUFFER = 64 * 1024


class Rule:
    def __init__(self, spec):
        if not isinstance(spec, dict) or spec.get("fault") not in KINDS:
            raise ValueError("a rule needs \"fault\": one of %s" % (KINDS,))
        self.spec = spec
        self.fault = spec["fault"]
        self.method = spec.get("method")
        self.path = re.compile(spec["path"]) if spec.get("path") else None
        self.times = int(spec.get("times", 1))
        self.skip = int(spec.get("skip", 0))
        self.status = int(spec.get("status", 500))
        self.retry_after = spec.get("retry_after")
        self.after = int(spec.get("after", 0))

    def matches(self, method, target):
        if self.method and self.method != method:
            return False
        return self.path is None or self.path.search(target) is not None

    def describe(self):
        out = dict(self.spec)
        out["times_left"] = self.times
        out["skip_left"] = self.skip
        return out


class State:
    def __init__(self, upstream, rules):
        self.upstream = upstream  # SplitResult
        self.lock = threading.Lock()
        # Signalled when a request is done; /__log waits for those in
        # flight, whose client may have its answer before it is recorded.
        self.done = threading.Condition(self.lock)
        self.in_flight = 0
        self.rules = rules
        self.log = []
        self.seq = 0
        self.proxy_base = None  # "http://127.0.0.1:PORT", set once bound

    def take_fault(self, method, target):
        """The rule that fires for this request, if any (counted)."""
        with self.lock:
            for rule in self.rules:
                if rule.times <= 0 or not rule.matches(method, target):
                    continue
                if rule.skip > 0:
                    rule.skip -= 1
                    return None
                rule.times -= 1
                return rule
            return None

    def begin(self):
        """A request arrived: its sequence number."""
        with self.lock:
            self.seq += 1
            self.in_flight += 1
            return self.seq

    def record(self, entry):
        with self.lock:
            self.log.append(entry)
            self.in_flight -= 1
            self.done.notify_all()

    def settled_log(self, timeout=10):
        """The log once no request is in flight (or after `timeout`)."""
        with self.lock:
            self.done.wait_for(lambda: self.in_flight == 0, timeout)
            return sorted(self.log, key=lambda e: e["seq"])


class Cut(Exception):
    """The fault cut the connection: the handler closes it."""


class Handler(http.server.BaseHTTPRequestHandler):
    state = None  # set in main()
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass  # the log is /__log; stdout stays quiet

    # One method for all: BaseHTTPRequestHandler dispatches on do_<METHOD>.
    def do_GET(self):
        self.handle_request()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def handle_request(self):
        if self.path.startswith("/__"):
            self.control()
            return
        method, target = self.command, self.path
        entry = {"seq": self.state.begin(), "method": method,
                 "path": target, "range": self.headers.get("Range"),
                 "content_range": self.headers.get("Content-Range"),
                 "status": 0, "request_bytes": 0, "response_bytes": 0,
                 "cut": False, "fault": None}
        rule = self.state.take_fault(method, target)
        if rule is not None:
            entry["fault"] = rule.fault
        try:
            if rule is not None and rule.fault == "cut_request":
                self.read_body(entry, limit=rule.after)
                raise Cut()
            if rule is not None and rule.fault == "status":
                self.read_body(entry)  # the client expects it to be read
                self.send_fault(entry, rule)
                return
            self.forward(entry, rule)
        except Cut:
            entry["cut"] = True
            self.cut()
        except (ConnectionError, socket.timeout, http.client.HTTPException):
            # The client or the upstream went away: nothing more to say.
            entry["cut"] = True
            self.close_connection = True
        finally:
            self.state.record(entry)

    def cut(self):
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def request_length(self):
        """Content-Length of the request body; None for chunked."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return None
        return int(self.headers.get("Content-Length", "0") or "0")

    def body_chunks(self, entry, limit=None):
        """Yields the request body in pieces (chunked bodies decoded),
        counting them; stops after `limit` bytes when given."""
        length = self.request_length()

        def bounded(n):
            if limit is not None:
                n = min(n, limit - entry["request_bytes"])
            return n

        if length is not None:
            left = length
            while left > 0:
                n = bounded(min(left, BUFFER))
                if n <= 0:
                    return
                data = self.rfile.read(n)
                if not data:
                    raise ConnectionError("request body ended early")
                entry["request_bytes"] += len(data)
                left -= len(data)
                yield data
            return
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0",
                       16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return
            while size > 0:
                n = bounded(min(size, BUFFER))
                if n <= 0:
                    return
                data = self.rfile.read(n)
                if not data:
                    raise ConnectionError("request body ended early")
                entry["request_bytes"] += len(data)
                size -= len(data)
                yield data
            self.rfile.readline()  # CRLF after the chunk

    def read_body(self, entry, limit=None):
        for _ in self.body_chunks(entry, limit):
            pass

    def send_fault(self, entry, rule):
        body = json.dumps({"errors": [{
            "code": "UNAVAILABLE" if rule.status >= 500 else "TOOMANYREQUESTS",
            "message": "fault injected by fault_proxy"}]}).encode()
        self.send_response(rule.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if rule.retry_after is not None:
            self.send_header("Retry-After", str(rule.retry_after))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
            entry["response_bytes"] = len(body)
        entry["status"] = rule.status

    def forward(self, entry, rule):
        up = self.state.upstream
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        try:
            conn.putrequest(self.command, self.path, skip_host=True,
                            skip_accept_encoding=True)
            conn.putheader("Host", up.netloc)
            chunked = self.request_length() is None
            for name, value in self.headers.items():
                lower = name.lower()
                # Host is the upstream's; "Expect: 100-continue" was
                # answered here already.
                if lower in HOP_BY_HOP or lower in ("host", "expect"):
                    continue
                conn.putheader(name, value)
            if chunked:
                conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            for data in self.body_chunks(entry):
                conn.send(b"%x\r\n%s\r\n" % (len(data), data) if chunked
                          else data)
            if chunked:
                conn.send(b"0\r\n\r\n")
            resp = conn.getresponse()
            self.relay(entry, resp, rule)
        finally:
            conn.close()

    def relay(self, entry, resp, rule):
        self.send_response_only(resp.status, resp.reason)
        length = resp.getheader("Content-Length")
        no_body = (self.command == "HEAD" or resp.status in (204, 304) or
                   100 <= resp.status < 200)
        chunked = not no_body and length is None
        for name, value in resp.getheaders():
            lower = name.lower()
            if lower in HOP_BY_HOP:
                continue
            if lower == "location":
                value = self.rewrite_location(value)
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        entry["status"] = resp.status
        if no_body:
            self.wfile.flush()
            return
        cut_after = (rule.after if rule is not None and
                     rule.fault == "cut_response" else None)
        while True:
            want = BUFFER
            if cut_after is not None:
                want = min(want, cut_after - entry["response_bytes"])
                if want <= 0:
                    raise Cut()
            data = resp.read(want)
            if not data:
                break
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked
                             else data)
            entry["response_bytes"] += len(data)
        if cut_after is not None:
            raise Cut()  # the body was shorter than `after`: cut at its end
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def rewrite_location(self, value):
        up = self.state.upstream
        base = "%s://%s" % (up.scheme, up.netloc)
        if value.startswith(base):
            return self.state.proxy_base + value[len(base):]
        return value

    def control(self):
        state = self.state
        entry = {"request_bytes": 0}
        body = b"".join(self.body_chunks(entry))
        path = urllib.parse.urlsplit(self.path).path
        if path == "/__faults" and self.command == "POST":
            try:
                specs = json.loads(body or b"[]")
                if not isinstance(specs, list):
                    raise ValueError("the rules must be a JSON list")
                rules = [Rule(s) for s in specs]
            except (ValueError, re.error) as e:
                self.reply(400, {"error": str(e)})
                return
            with state.lock:
                state.rules = rules
            self.reply(200, {"rules": len(rules)})
        elif path == "/__faults" and self.command == "GET":
            with state.lock:
                self.reply(200, [r.describe() for r in state.rules])
        elif path == "/__log" and self.command == "GET":
            self.reply(200, state.settled_log())
        elif path == "/__log" and self.command == "DELETE":
            state.settled_log()
            with state.lock:
                state.log = []
            self.reply(200, {})
        else:
            self.reply(404, {"error": "unknown control endpoint"})

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # cut connections are the point; keep stderr quiet


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--upstream", required=True,
                   help="the registry: http://127.0.0.1:PORT")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--faults", default="[]", help="the initial rules (JSON)")
    p.add_argument("--max-lifetime", type=float, default=0,
                   help="exit after this many seconds (0: never)")
    args = p.parse_args()

    upstream = urllib.parse.urlsplit(args.upstream)
    if upstream.scheme != "http" or not upstream.hostname or not upstream.port:
        p.error("--upstream must be http://HOST:PORT")
    try:
        rules = [Rule(s) for s in json.loads(args.faults)]
    except (ValueError, TypeError, re.error) as e:
        p.error("--faults: %s" % e)
    Handler.state = State(upstream, rules)
    server = Server(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    Handler.state.proxy_base = "http://127.0.0.1:%d" % port
    if args.max_lifetime > 0:
        timer = threading.Timer(args.max_lifetime, lambda: os._exit(0))
        timer.daemon = True
        timer.start()
    print("listening on 127.0.0.1:%d" % port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
