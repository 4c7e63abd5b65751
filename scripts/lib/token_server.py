#!/usr/bin/python3
"""A tiny Docker registry token server for the integration tests (loopback only).

Implements the token flow of https://distribution.github.io/distribution/spec/auth/token/ as far
as distribution 2.8's `auth: token:` verifier needs it:

  GET /token?service=S&scope=repository:NAME:pull,push&scope=...   (optional Basic credentials)
    200 {"token": JWT, "access_token": JWT, "expires_in": N, "issued_at": RFC3339}
        anonymous: each repository scope is granted at most `pull`;
        valid credentials: at most `pull` and `push`; other resource types get nothing.
    401 {"errors": [{"code": "UNAUTHORIZED", ...}]} for wrong credentials (with WWW-Authenticate)
    400 for a service other than ours or a malformed scope
  POST /token      405 (no OAuth2 password/refresh grant; clients fall back to GET)
  GET  /stats      flat JSON counters, e.g. {"GET /token": 3, "issued": 2, "issued anonymous": 1,
                   "issued user": 1, "denied": 1, "bad request": 0}
  POST /reset      zeroes the counters
  POST /config     {"expires_in": N} changes the lifetime of tokens issued from now on
  GET  /healthz    200 "ok"

The JWT is ES256-signed with the key whose self-signed certificate is the registry's
rootcertbundle. Its header carries `kid`: the libtrust key ID of that public key (SHA-256 of the
DER SubjectPublicKeyInfo, first 240 bits, base32, in 4-character groups joined by ':'), which is
how distribution 2.8 finds the key among the rootcertbundle's public keys.
"""
import argparse
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def libtrust_key_id(public_key) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode("ascii")
    return ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))


class Signer:
    def __init__(self, key_path: str, cert_path: str):
        with open(key_path, "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), password=None)
        if not isinstance(self.key, ec.EllipticCurvePrivateKey) or self.key.curve.name != "secp256r1":
            raise SystemExit("token_server: the signing key must be EC P-256 (ES256)")
        with open(cert_path, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        self.kid = libtrust_key_id(cert.public_key())
        if self.kid != libtrust_key_id(self.key.public_key()):
            raise SystemExit("token_server: certificate and key do not match")

    def sign(self, claims: dict) -> str:
        header = {"typ": "JWT", "alg": "ES256", "kid": self.kid}
        signing_input = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
            b64url(json.dumps(claims, separators=(",", ":")).encode())
        der = self.key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return signing_input + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


class State:
    def __init__(self, expires_in: int):
        self.lock = threading.Lock()
        self.expires_in = expires_in
        self.counters = {}

    def count(self, *keys):
        with self.lock:
            for k in keys:
                self.counters[k] = self.counters.get(k, 0) + 1

    def snapshot(self):
        with self.lock:
            return dict(self.counters)

    def reset(self):
        with self.lock:
            self.counters = {}


def parse_scope(scope: str):
    """`repository:NAME:a,b` -> ("repository", NAME, [a, b]); NAME may contain ':' (host:port)."""
    typ, sep, rest = scope.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not typ or not name:
        return None
    return typ, name, [a for a in actions.split(",") if a]


def make_handler(args, signer: Signer, state: State):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "sit-token-server/1"

        def log_message(self, fmt, *a):
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % a))

        def reply(self, status, body, headers=()):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if not isinstance(body, bytes) else "text/plain")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def discard_body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def credentials(self):
            """None: anonymous; a user name: valid; False: wrong credentials."""
            auth = self.headers.get("Authorization")
            if not auth:
                return None
            scheme, _, value = auth.partition(" ")
            if scheme.lower() != "basic":
                return False
            try:
                user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
            except Exception:
                return False
            ok = hmac.compare_digest(user.encode(), args.user.encode()) and \
                hmac.compare_digest(password.encode(), args.password.encode())
            return user if ok else False

        def do_GET(self):
            url = urlsplit(self.path)
            state.count(f"GET {url.path}")
            if url.path == "/healthz":
                return self.reply(200, b"ok\n")
            if url.path == "/stats":
                return self.reply(200, state.snapshot())
            if url.path != "/token":
                return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})
            self.token(parse_qs(url.query))

        def do_POST(self):
            url = urlsplit(self.path)
            state.count(f"POST {url.path}")
            body = self.discard_body()
            if url.path == "/reset":
                state.reset()
                return self.reply(200, {})
            if url.path == "/config":
                try:
                    config = json.loads(body or b"{}")
                    with state.lock:
                        state.expires_in = int(config.get("expires_in", state.expires_in))
                        return self.reply(200, {"expires_in": state.expires_in})
                except (ValueError, TypeError, AttributeError) as e:
                    return self.reply(400, {"errors": [{"code": "BAD_REQUEST", "message": str(e)}]})
            if url.path == "/token":
                return self.reply(405, {"errors": [{"code": "UNSUPPORTED", "message": "use GET /token"}]},
                                  [("Allow", "GET")])
            self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})

        def token(self, query):
            who = self.credentials()
            if who is False:
                state.count("denied")
                return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "invalid username or password"}]},
                                  [("WWW-Authenticate", f'Basic realm="{args.service}"')])
            service = query.get("service", [args.service])[0]
            if service != args.service:
                state.count("bad request")
                return self.reply(400, {"errors": [{"code": "BAD_REQUEST", "message": f"unknown service {service!r}"}]})
            allowed = {"pull", "push"} if who else {"pull"}
            access = []
            for scope in query.get("scope", []):
                for one in scope.split(" "):  # some clients join scopes with spaces
                    if not one:
                        continue
                    parsed = parse_scope(one)
                    if parsed is None:
                        state.count("bad request")
                        return self.reply(400, {"errors": [{"code": "BAD_REQUEST", "message": f"bad scope {one!r}"}]})
                    typ, name, actions = parsed
                    granted = [a for a in actions if a in allowed] if typ == "repository" else []
                    access.append({"type": typ, "name": name, "actions": granted})
            with state.lock:
                expires_in = state.expires_in
            now = int(time.time())
            claims = {
                "iss": args.issuer, "sub": who or "", "aud": args.service,
                "exp": now + expires_in, "nbf": now - 1, "iat": now,
                "jti": uuid.uuid4().hex, "access": access,
            }
            jwt = signer.sign(claims)
            state.count("issued", "issued user" if who else "issued anonymous")
            issued_at = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            self.reply(200, {"token": jwt, "access_token": jwt, "expires_in": expires_in, "issued_at": issued_at})

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--key", required=True, help="PEM EC P-256 private key")
    p.add_argument("--cert", required=True, help="PEM certificate of that key (the rootcertbundle)")
    p.add_argument("--issuer", required=True)
    p.add_argument("--service", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password-file", required=True)
    p.add_argument("--expires-in", type=int, default=300)
    args = p.parse_args()
    with open(args.password_file) as f:
        args.password = f.read().strip()
    signer = Signer(args.key, args.cert)
    server = ThreadingHTTPServer((args.listen, args.port), make_handler(args, signer, State(args.expires_in)))
    server.daemon_threads = True
    print(f"token_server: listening on {args.listen}:{args.port}, kid {signer.kid}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
