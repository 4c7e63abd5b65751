/// The test peer: an HTTP/1.1 server (tcp, tls, unix) that echoes requests as JSON and
/// serves generated bodies, or a forward proxy that records request lines.
let peerScript = #"""
# Test peer for HTTPTests: an HTTP/1.1 server (tcp, tls, unix) or a forward proxy.
import hashlib, json, socket, socketserver, ssl, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATTERN = bytes(range(251)) * 4200  # byte i of every generated body is i % 251; > 1 MiB + 251


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self):
        digest, state = hashlib.sha256(), {"count": 0, "pattern": True}

        def take(remaining):
            while remaining:
                data = self.rfile.read(min(remaining, 1 << 20))
                if not data:
                    raise ConnectionError("body ended early")
                offset = state["count"] % 251
                state["pattern"] = state["pattern"] and data == PATTERN[offset:offset + len(data)]
                digest.update(data)
                state["count"] += len(data)
                remaining -= len(data)

        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if chunked:
            while (size := int(self.rfile.readline().split(b";")[0], 16)) > 0:
                take(size)
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
        else:
            take(int(self.headers.get("Content-Length", 0)))
        return {"bytes": state["count"], "sha256": digest.hexdigest(), "chunked": chunked,
                "pattern": state["pattern"] and state["count"] > 0}

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        path, _, query = self.path.partition("?")
        params = dict(urllib.parse.parse_qsl(query))
        if path.startswith("/bytes/"):
            return self.send_pattern(int(path[len("/bytes/"):]))
        if path == "/redirect":
            return self.reply(302, headers=[("Location", params["to"])])
        if path.startswith("/status/"):
            return self.reply(int(path[len("/status/"):]), b"error body")
        if path == "/close":
            return self.close_early()
        if path == "/stall":
            return self.stall()
        echo = {"method": self.command, "path": self.path, "headers": [[k, v] for k, v in self.headers.items()],
                "clientPort": self.client_address[1] if isinstance(self.client_address, tuple) else 0}
        echo.update(self.read_body())
        self.reply(200, json.dumps(echo).encode(), [("Content-Type", "application/json")])

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any

    def send_pattern(self, length):
        self.send_response(200)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if self.command == "HEAD":
            return
        block = PATTERN[:251 * 4096]  # a whole number of periods, so every block starts at phase 0
        while length > 0:
            piece = block[:min(length, len(block))]
            self.wfile.write(piece)
            length -= len(piece)

    def close_early(self):
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b"0123456789")
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def stall(self):
        self.send_response(200)
        self.send_header("Content-Length", "10")
        self.end_headers()
        self.wfile.flush()
        time.sleep(5)
        self.close_connection = True


class Quiet:
    """Clients that hang up early are part of the tests, not errors worth a traceback."""
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


class TCPServer(Quiet, ThreadingHTTPServer):
    pass


class UnixServer(Quiet, socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    pass


class ProxyServer(Quiet, socketserver.ThreadingTCPServer):
    pass


class ProxyHandler(socketserver.StreamRequestHandler):
    """Records each request line in the log file; tunnels CONNECT, answers anything else itself."""

    def handle(self):
        line = self.rfile.readline().decode().rstrip("\r\n")
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        with open(self.server.log, "a") as log:
            log.write(line + "\n")
        method, target, _ = line.split(" ", 2)
        if method != "CONNECT":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nproxied")
            return
        host, port = target.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        threading.Thread(target=pump, args=(upstream, self.connection), daemon=True).start()
        pump(self.connection, upstream)


def pump(source, target):
    try:
        while data := source.recv(65536):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "unix":
        server = UnixServer(args[0], Handler)
        address = args[0]
    elif mode == "proxy":
        server = ProxyServer(("127.0.0.1", 0), ProxyHandler)
        server.log = args[0]
        address = server.server_address[1]
    else:
        server = TCPServer(("127.0.0.1", 0), Handler)
        if mode == "tls":
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(args[0], args[1])
            if len(args) > 2:
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(args[2])
            server.socket = context.wrap_socket(server.socket, server_side=True)
        address = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(address, flush=True)
    sys.stdin.read()  # the test process holds our stdin; its exit ends us


main()
"""#
