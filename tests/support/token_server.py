#!/usr/bin/env python3
"""A loopback Bearer token issuer for strata's registry tests.

Implements the docker token protocol that distribution's `auth: token`
expects (https://distribution.github.io/distribution/spec/auth/token):

  GET /token?service=S&scope=repository:NAME:pull,push[&scope=...]
      Authorization: Basic base64(user:password)     (optional)
  -> 200 {"token": JWT, "access_token": JWT, "expires_in": N,
          "issued_at": RFC3339}
  -> 401 for wrong credentials, or no credentials without --anonymous-pull
  POST /token   (OAuth2: distribution's docs, spec/auth/oauth)
      Content-Type: application/x-www-form-urlencoded
      grant_type=refresh_token&refresh_token=R&service=S&client_id=C
          [&scope=SCOPES]                (R must equal --refresh-token)
      grant_type=password&username=U&password=P&service=S&client_id=C
          [&scope=SCOPES][&access_type=offline]
  -> 200 {"access_token": JWT, "expires_in": N, "scope": SCOPES,
          "issued_at": RFC3339[, "refresh_token": R (offline password grant)]}
  -> 401 for a wrong grant, 400 for a missing client_id, unknown service or
     grant_type
  GET /stats -> 200 {"token_requests": N (GETs), "token_posts": N (POSTs),
                     "issued": N, "denied": N}

The JWT is RS256-signed with --key (by the openssl CLI: python3's stdlib
has no RSA); its header carries x5c = [--cert as base64 DER], so the
registry's rootcertbundle is that same self-signed certificate. Claims:
iss, sub, aud (= service), exp, nbf, iat, jti and access = [{type, name,
actions}]. A known user gets every action asked for; anonymous gets pull
only. The first stdout line is "listening on 127.0.0.1:PORT" (binds port 0
by default, so the caller learns the port without a race). Python 3 stdlib
only; loopback only.
"""

import argparse
import base64
import datetime
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def cert_der_b64(pem_path):
    """The first certificate of a PEM file, as standard base64 of its DER."""
    with open(pem_path, encoding="ascii") as f:
        text = f.read()
    begin = "-----BEGIN CERTIFICATE-----"
    end = "-----END CERTIFICATE-----"
    body = text[text.index(begin) + len(begin):text.index(end)]
    return "".join(body.split())  # already base64 DER; drop line breaks


def parse_scopes(values):
    """["repository:a/b:pull,push", ...] -> [(type, name, [actions])].

    A scope value may hold several space-separated scopes; a name may hold
    ':' (host:port/name), so type is before the first ':' and actions after
    the last.
    """
    scopes = []
    for value in values:
        for scope in value.split():
            first = scope.find(":")
            last = scope.rfind(":")
            if first < 0 or last == first:
                continue
            actions = [a for a in scope[last + 1:].split(",") if a]
            scopes.append((scope[:first], scope[first + 1:last], actions))
    return scopes


def access_for(scope_values, user):
    """The JWT access claim for the scopes asked: every action for a known
    user, pull only for anonymous (user None)."""
    access = []
    for kind, name, actions in parse_scopes(scope_values):
        if user is None:
            actions = [a for a in actions if a == "pull"]
        if actions:
            access.append({"type": kind, "name": name, "actions": actions})
    return access


def rfc3339(seconds):
    return datetime.datetime.fromtimestamp(
        seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Issuer:
    def __init__(self, args):
        self.args = args
        self.x5c = cert_der_b64(args.cert)
        self.lock = threading.Lock()
        self.stats = {"token_requests": 0, "token_posts": 0, "issued": 0,
                      "denied": 0}
        self.serial = 0
        self.log = open(args.log, "a", encoding="utf-8") if args.log else None

    def count(self, key):
        with self.lock:
            self.stats[key] += 1
            return self.stats[key]

    def sign(self, data):
        r = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", self.args.key],
            input=data, capture_output=True, timeout=10, check=True)
        return r.stdout

    def token(self, service, subject, access):
        now = int(time.time())
        with self.lock:
            self.serial += 1
            jti = "%d-%d-%d" % (os.getpid(), now, self.serial)
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {
            "iss": self.args.issuer,
            "sub": subject,
            "aud": service,
            "exp": now + self.args.expires_in,
            "nbf": now - 1,
            "iat": now,
            "jti": jti,
            "access": access,
        }
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode()))
        signature = self.sign(signing_input.encode("ascii"))
        return signing_input + "." + b64url(signature), now


class Handler(http.server.BaseHTTPRequestHandler):
    issuer = None  # set in main()
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        log = self.issuer.log
        if log:
            log.write("%s %s\n" % (self.log_date_time_string(), fmt % args))
            log.flush()

    def reply(self, code, body, extra_headers=()):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def user(self):
        """(authenticated, username): (False, None) for wrong credentials,
        (True, None) for anonymous."""
        auth = self.headers.get("Authorization", "")
        if not auth:
            return True, None
        if not auth.startswith("Basic "):
            return False, None
        try:
            decoded = base64.b64decode(auth[6:], validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return False, None
        user, _, password = decoded.partition(":")
        args = self.issuer.args
        if user == args.username and password == args.password:
            return True, user
        return False, None

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/stats":
            with self.issuer.lock:
                stats = dict(self.issuer.stats)
            self.reply(200, stats)
            return
        if url.path != "/token":
            self.reply(404, {"errors": [{"code": "NOT_FOUND"}]})
            return
        self.issuer.count("token_requests")
        query = urllib.parse.parse_qs(url.query)
        service = query.get("service", [""])[0]
        args = self.issuer.args
        ok, user = self.user()
        if not ok or (user is None and not args.anonymous_pull):
            self.issuer.count("denied")
            self.reply(401, {"errors": [{"code": "UNAUTHORIZED",
                                         "message": "authentication required"}]},
                       [("WWW-Authenticate", 'Basic realm="token"')])
            return
        if service != args.service:
            self.issuer.count("denied")
            self.reply(400, {"errors": [{"code": "DENIED",
                                         "message": "unknown service"}]})
            return
        token, now = self.issuer.token(
            service, user or "", access_for(query.get("scope", []), user))
        self.issuer.count("issued")
        self.reply(200, {"token": token, "access_token": token,
                         "expires_in": args.expires_in,
                         "issued_at": rfc3339(now)})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0") or "0")
        body = self.rfile.read(length).decode("utf-8", "replace")
        if urllib.parse.urlsplit(self.path).path != "/token":
            self.reply(404, {"errors": [{"code": "NOT_FOUND"}]})
            return
        self.issuer.count("token_posts")
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
        args = self.issuer.args
        grant = form.get("grant_type", "")
        user = None
        if grant == "refresh_token":
            ok = (args.refresh_token and
                  form.get("refresh_token") == args.refresh_token)
            user = args.username
        elif grant == "password":
            ok = (form.get("username") == args.username and
                  form.get("password") == args.password)
            user = args.username
        else:
            self.deny(400, "unsupported_grant_type")
            return
        if not ok:
            self.deny(401, "invalid_grant")
            return
        if not form.get("client_id"):
            self.deny(400, "invalid_request", "client_id is required")
            return
        service = form.get("service", "")
        if service != args.service:
            self.deny(400, "invalid_request", "unknown service")
            return
        scope = form.get("scope", "")
        token, now = self.issuer.token(service, user,
                                       access_for([scope], user))
        self.issuer.count("issued")
        reply = {"access_token": token, "expires_in": args.expires_in,
                 "scope": scope, "issued_at": rfc3339(now)}
        if (grant == "password" and form.get("access_type") == "offline" and
                args.refresh_token):
            reply["refresh_token"] = args.refresh_token
        self.reply(200, reply)

    def deny(self, code, error, description=""):
        """An OAuth2 error answer (RFC 6749 section 5.2)."""
        self.issuer.count("denied")
        body = {"error": error}
        if description:
            body["error_description"] = description
        self.reply(code, body)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--key", required=True, help="RSA private key (PEM)")
    p.add_argument("--cert", required=True, help="its self-signed cert (PEM)")
    p.add_argument("--service", default="strata-test-registry")
    p.add_argument("--issuer", default="strata-test-issuer")
    p.add_argument("--username", default="strata")
    p.add_argument("--password", default="strata-test-password")
    p.add_argument("--expires-in", type=int, default=300)
    p.add_argument("--anonymous-pull", action="store_true")
    p.add_argument("--refresh-token", default="",
                   help="the refresh (identity) token POST /token accepts "
                        "for --username; none when empty")
    p.add_argument("--log", help="append one line per request here")
    args = p.parse_args()

    Handler.issuer = Issuer(args)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
