#!/usr/bin/python3
"""A fault-injecting HTTP/1.1 reverse proxy in front of the plain test registry (loopback only).

Proxy port: forwards every request to the upstream registry, streaming bodies both ways (never
holding a blob in memory). The Host header goes upstream unchanged, so the registry builds its
absolute Location URLs with the proxy's address; Locations that still name the upstream are
rewritten to the proxy's address anyway. Nothing else is rewritten.

Control port (JSON):
  POST /plan   {"rules": [RULE, ...]}   replaces the rules (their counters start at zero)
  GET  /plan                            the rules with "used" (how often each fired so far)
  GET  /stats[?match=REGEX]             flat counters over the requests seen (optionally only
                                        those whose path matches REGEX), see below
  GET  /log[?match=REGEX]               [{"method", "path", "status", "fault"}, ...]
  POST /reset                           removes all rules and forgets all requests

RULE: {"method": "PUT" | "*", "path_regex": "/blobs/uploads/", "action": "status" | "cut" | "delay",
       "times": N (default: every match), "skip": N (let the first N matches through, default 0),
       "status": 500, "retry_after": 1, "body": "...", (action "status": answered by the proxy
       after the request body is read and discarded; default body: a registry-style JSON error)
       "after_bytes": N, (action "cut": forward N bytes of the request body, then close both
       connections without an answer)
       "seconds": 2.5} (action "delay": wait, then forward)
       "append": N, "truncate": N, "flip": true, "cut_at": N} (action "body": forward a GET,
       then change the response: N extra bytes, N bytes fewer, or its first byte flipped, with a
       Content-Length that follows the body, so the lie is in the size or the digest, not in HTTP
       framing; or the true Content-Length and only the first N bytes, then the connection
       closed; "headers" replace the upstream's headers of the same names)
In "headers" and "body" of a status rule, {canary} becomes the canary's host:port and {path}
the request's path and query.
The first rule whose method and path_regex (re.search over path + query) match, and that has
not fired `times` times yet, applies; a skipped match counts towards `skip` only.

Canary (the "other host"): a listener on 127.0.0.2 (another loopback address, so another
origin) that records every request it receives (method, path, headers, body) and answers 401
with `WWW-Authenticate: Bearer realm="http://{canary}/token"`, a cleartext realm on a host that
is not the registry; GET /token answers a token. Point a rule's Location at it and ask whether
a credential arrived there:
  GET  /canary                          {"address": "127.0.0.2:PORT", "requests": [...]}

Stats keys: "total"; "METHOD PATTERN" per request, where PATTERN is the path with the repository
name and references replaced: "/v2/", "/v2/*/blobs/*", "/v2/*/blobs/uploads/",
"/v2/*/blobs/uploads/?mount" (a cross-repository mount), "/v2/*/blobs/uploads/*",
"/v2/*/manifests/*", "/v2/*/tags/list", "/v2/_catalog", else the raw path; "status N" per status
code sent to the client; "fault status", "fault cut", "fault delay" per fired rule.
"""
import argparse
import http.client
import json
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

BUF = 1 << 20
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}


def pattern(path: str) -> str:
    url = urlsplit(path)
    p = url.path
    if p in ("/v2", "/v2/"):
        return "/v2/"
    if p == "/v2/_catalog":
        return p
    m = re.match(r"^/v2/.+?/(blobs/uploads/?|blobs|manifests|tags/list)(/.*)?$", p)
    if not m:
        return p
    kind, rest = m.group(1).rstrip("/"), (m.group(2) or "").strip("/")
    if kind == "blobs/uploads":
        if rest:
            return "/v2/*/blobs/uploads/*"
        return "/v2/*/blobs/uploads/?mount" if "mount" in parse_qs(url.query) else "/v2/*/blobs/uploads/"
    if kind == "tags/list":
        return "/v2/*/tags/list"
    return f"/v2/*/{kind}/*"


class Rule:
    def __init__(self, spec: dict):
        if not isinstance(spec, dict):
            raise ValueError("a rule is a JSON object")
        self.spec = spec
        self.method = str(spec.get("method", "*")).upper()
        self.regex = re.compile(spec.get("path_regex", ""))
        self.action = spec.get("action")
        if self.action not in ("status", "cut", "delay", "body"):
            raise ValueError(f"unknown action {self.action!r} (status, cut, delay, body)")
        self.times = spec.get("times")
        self.skip = int(spec.get("skip", 0))
        self.status = int(spec.get("status", 500))
        self.after_bytes = int(spec.get("after_bytes", 0))
        self.seconds = float(spec.get("seconds", 0))
        self.seen = 0
        self.used = 0

    def take(self, method: str, path: str) -> bool:
        """Called under the lock: whether this rule fires for the request (and counts it)."""
        if self.method != "*" and self.method != method:
            return False
        if not self.regex.search(path):
            return False
        if self.times is not None and self.used >= int(self.times):
            return False
        self.seen += 1
        if self.seen <= self.skip:
            return False
        self.used += 1
        return True


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.log = []
        self.canary = ""
        self.canary_requests = []

    def match(self, method, path):
        with self.lock:
            for rule in self.rules:
                if rule.take(method, path):
                    return rule
        return None

    def record(self, method, path, status, fault):
        with self.lock:
            if len(self.log) < 1_000_000:
                self.log.append({"method": method, "path": path, "status": status, "fault": fault})

    def entries(self, match):
        regex = re.compile(match) if match else None
        with self.lock:
            return [e for e in self.log if not regex or regex.search(e["path"])]

    def stats(self, match):
        counts = {"total": 0}

        def bump(k):
            counts[k] = counts.get(k, 0) + 1
        for e in self.entries(match):
            bump("total")
            bump(f'{e["method"]} {pattern(e["path"])}')
            if e["status"] is not None:
                bump(f'status {e["status"]}')
            if e["fault"]:
                bump(f'fault {e["fault"]}')
        return counts


class Cut(Exception):
    pass


def make_proxy_handler(upstream: str, public: str, state: State):
    up_host, _, up_port = upstream.rpartition(":")

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            sys.stderr.write("proxy %s - %s\n" % (self.address_string(), fmt % a))

        def body_chunks(self):
            """Yields (raw bytes to forward, payload byte count) for the request body."""
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                while True:
                    line = self.rfile.readline(65537)
                    size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                    if size == 0:
                        trailer = line
                        while True:
                            t = self.rfile.readline(65537)
                            trailer += t
                            if t in (b"\r\n", b"\n", b""):
                                break
                        yield trailer, 0
                        return
                    yield line, 0
                    yield from self.payload(size)
                    yield self.rfile.readline(65537), 0
            else:
                yield from self.payload(int(self.headers.get("Content-Length") or 0))

        def payload(self, left):
            """Yields (bytes, count) for the next `left` bytes of the request body, BUF at a time."""
            while left:
                data = self.rfile.read(min(BUF, left))
                if not data:
                    raise ConnectionError("client closed the connection inside the request body")
                left -= len(data)
                yield data, len(data)

        def abort(self):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def expand(self, text):
            return text.replace("{canary}", state.canary).replace("{path}", self.path)

        def answer(self, rule):
            for _ in self.body_chunks():
                pass
            body = rule.spec.get("body")
            if isinstance(body, str):
                body = self.expand(body)
            if body is None:
                body = json.dumps({"errors": [{"code": "UNKNOWN", "message": f"injected by fault-proxy: {rule.status}", "detail": None}]})
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response_only(rule.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
            if "retry_after" in rule.spec:
                self.send_header("Retry-After", str(rule.spec["retry_after"]))
            for k, v in (rule.spec.get("headers") or {}).items():
                self.send_header(k, self.expand(str(v)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def forward(self, cut_after, lie=None):
            conn = http.client.HTTPConnection(up_host, int(up_port), timeout=600)
            try:
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in self.headers.items():
                    if k.lower() in HOP_BY_HOP and k.lower() != "transfer-encoding":
                        continue
                    conn.putheader(k, v)
                conn.putheader("Connection", "close")
                conn.endheaders()
                sent = 0
                for raw, payload in self.body_chunks():
                    if cut_after is not None and sent + payload > cut_after:
                        conn.send(raw[: cut_after - sent])
                        raise Cut()
                    conn.send(raw)
                    sent += payload
                if cut_after is not None:
                    raise Cut()  # the body was shorter than after_bytes: cut before the answer
                resp = conn.getresponse()
                if lie and 200 <= resp.status < 300 and self.command == "GET":
                    self.relay_lying(resp, lie)
                else:
                    self.relay(resp)
                return resp.status
            finally:
                conn.close()

        def relay(self, resp):
            self.send_response_only(resp.status, resp.reason)
            chunked = False
            has_length = False
            for k, v in resp.getheaders():
                lk = k.lower()
                if lk == "transfer-encoding":
                    chunked = "chunked" in v.lower()
                    continue
                if lk in HOP_BY_HOP:
                    continue
                if lk == "content-length":
                    has_length = True
                if lk == "location":
                    v = v.replace(f"http://{upstream}/", f"http://{public}/", 1) if v.startswith(f"http://{upstream}/") else v
                self.send_header(k, v)
            bodyless = self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
            if chunked and not bodyless:
                self.send_header("Transfer-Encoding", "chunked")
            elif not has_length and not bodyless:
                self.close_connection = True
                self.send_header("Connection", "close")
            self.end_headers()
            if bodyless:
                return
            while True:
                data = resp.read1(BUF) if hasattr(resp, "read1") else resp.read(BUF)
                if not data:
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")

        def relay_lying(self, resp, rule):
            """Relays a (small test) body changed as the rule says, with a matching Content-Length."""
            data = resp.read()
            if "append" in rule.spec:
                data += b"\x00" * int(rule.spec["append"])
            if "truncate" in rule.spec:
                data = data[: max(0, len(data) - int(rule.spec["truncate"]))]
            if rule.spec.get("flip") and data:
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            replaced = {k.lower(): self.expand(str(v)) for k, v in (rule.spec.get("headers") or {}).items()}
            self.send_response_only(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length" and k.lower() not in replaced:
                    self.send_header(k, v)
            for k, v in replaced.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if "cut_at" in rule.spec:
                self.wfile.write(data[: int(rule.spec["cut_at"])])
                self.wfile.flush()
                raise Cut()
            self.wfile.write(data)

        def handle_any(self):
            rule = state.match(self.command, self.path)
            fault = rule.action if rule else None
            status = None
            try:
                if rule and rule.action == "status":
                    self.answer(rule)
                    status = rule.status
                elif rule and rule.action == "cut":
                    status = self.forward(rule.after_bytes)
                elif rule and rule.action == "body":
                    status = self.forward(None, lie=rule)
                else:
                    if rule and rule.action == "delay":
                        time.sleep(rule.seconds)
                    status = self.forward(None)
            except Cut:
                self.abort()
            except (ConnectionError, OSError, http.client.HTTPException) as e:
                self.log_message("%s %s failed: %r", self.command, self.path, e)
                if status is None and not isinstance(e, (BrokenPipeError, ConnectionResetError)):
                    try:
                        msg = json.dumps({"errors": [{"code": "UNKNOWN", "message": f"fault-proxy: upstream failed: {e!r}"}]}).encode()
                        self.send_response_only(502)
                        self.send_header("Content-Length", str(len(msg)))
                        self.end_headers()
                        self.wfile.write(msg)
                        status = 502
                    except OSError:
                        pass
                self.close_connection = True
            finally:
                state.record(self.command, self.path, status, fault)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any

    return Proxy


def make_canary_handler(state: State):
    """The other host: records what arrives, answers 401 naming a cleartext realm on itself."""

    class Canary(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            sys.stderr.write("canary %s - %s\n" % (self.address_string(), fmt % a))

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(length, 1 << 16)) if length else b""
            # The rest is read and dropped before the answer: answering mid-upload and closing
            # would make the client's error a race between our 401 and its broken pipe.
            rest = length - len(body)
            while rest > 0:
                chunk = self.rfile.read(min(rest, 1 << 20))
                if not chunk:
                    break
                rest -= len(chunk)
            if rest > 0:
                self.close_connection = True
            with state.lock:
                if len(state.canary_requests) < 10_000:
                    state.canary_requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                                                  "body": body.decode("latin-1")})
            if urlsplit(self.path).path == "/token":
                data, status = json.dumps({"token": "canary-token", "expires_in": 300}).encode(), 200
            else:
                data, status = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "canary"}]}).encode(), 401
            self.send_response_only(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == 401:
                self.send_header("WWW-Authenticate", f'Bearer realm="http://{state.canary}/token",service="canary"')
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    return Canary


def make_control_handler(state: State):
    class Control(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            sys.stderr.write("control %s - %s\n" % (self.address_string(), fmt % a))

        def reply(self, status, obj):
            data = json.dumps(obj, sort_keys=True).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urlsplit(self.path)
            match = parse_qs(url.query).get("match", [None])[0]
            if url.path == "/stats":
                return self.reply(200, state.stats(match))
            if url.path == "/log":
                return self.reply(200, state.entries(match))
            if url.path == "/plan":
                with state.lock:
                    return self.reply(200, {"rules": [dict(r.spec, used=r.used) for r in state.rules]})
            if url.path == "/canary":
                with state.lock:
                    return self.reply(200, {"address": state.canary, "requests": list(state.canary_requests)})
            if url.path == "/healthz":
                return self.reply(200, {"ok": True})
            self.reply(404, {"error": f"unknown path {url.path}"})

        def do_POST(self):
            url = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if url.path == "/reset":
                with state.lock:
                    state.rules = []
                    state.log = []
                    state.canary_requests = []
                return self.reply(200, {})
            if url.path == "/plan":
                try:
                    plan = json.loads(body or b"{}")
                    rules = [Rule(r) for r in plan.get("rules", [])]
                except (ValueError, TypeError, AttributeError, re.error) as e:
                    return self.reply(400, {"error": str(e)})
                with state.lock:
                    state.rules = rules
                return self.reply(200, {"rules": len(rules)})
            self.reply(404, {"error": f"unknown path {url.path}"})

    return Control


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--upstream", required=True, help="host:port of the registry")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--control-port", type=int, required=True)
    args = p.parse_args()
    state = State()
    public = f"127.0.0.1:{args.port}"
    proxy = ThreadingHTTPServer(("127.0.0.1", args.port), make_proxy_handler(args.upstream, public, state))
    control = ThreadingHTTPServer(("127.0.0.1", args.control_port), make_control_handler(state))
    canary = ThreadingHTTPServer(("127.0.0.2", 0), make_canary_handler(state))
    state.canary = f"127.0.0.2:{canary.server_address[1]}"
    for server in (proxy, control, canary):
        server.daemon_threads = True
    threading.Thread(target=control.serve_forever, daemon=True).start()
    threading.Thread(target=canary.serve_forever, daemon=True).start()
    print(f"fault_proxy: {public} -> {args.upstream}, control on 127.0.0.1:{args.control_port}, canary on {state.canary}",
          file=sys.stderr, flush=True)
    proxy.serve_forever()


if __name__ == "__main__":
    main()
