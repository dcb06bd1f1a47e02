#!/usr/bin/env python3
"""netvec-srv: the "outside world" of tests/integ/t-netvectors.sh.

It runs INSIDE the test's own network namespace (only lo and a veth pair the
test created, no route anywhere else), never in the machine's namespace, and
records everything that reaches it, so a test can assert that a refused
request never arrived (and that a control request did).

    netvec-srv.py --log FILE --ready FILE [--cert PEM --key PEM]
                  [--git-root DIR] LISTENER...

LISTENER (ADDR is an IPv4 address or [IPv6]):
    http:ADDR:PORT:LABEL     HTTP/1.x; answers by Host (below)
    https:ADDR:PORT:LABEL    TLS (--cert/--key), then the same HTTP; logs the
                             SNI of every handshake, or "no-data" when the
                             peer closed before sending a byte
    tcp:ADDR:PORT:LABEL      accepts, logs, says "LABEL\\n", closes
    udp:ADDR:PORT:LABEL      logs every datagram
    dns:ADDR:PORT:MAP        DNS over UDP; logs every query; MAP is
                             name=addr[+addr...][,name=...] (A and AAAA)

HTTP answers, by the Host header:
    git.test        git smart HTTP (git http-backend, --git-root, export all)
    registry.test   an npm registry with one package, nvtest-pkg 1.0.0
    anything else   "hello from LABEL host=HOST path=PATH"

Log lines (one per event, flushed):
    http LABEL METHOD HOST PATH      tls LABEL sni=NAME | no-data | failed
    tcp LABEL connect                udp LABEL PAYLOAD
    dns NAME TYPE
"""
import base64
import hashlib
import http.server
import io
import json
import os
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import tarfile
import threading

LOCK = threading.Lock()
LOG = None
ARGS = {}


def log(*words):
    line = " ".join(str(w) for w in words)
    with LOCK:
        LOG.write(line + "\n")
        LOG.flush()


def printable(b):
    return "".join(chr(c) if 0x21 <= c < 0x7F else "." for c in b[:80])


def split_addr(spec):
    """'10.0.0.1:80:x' or '[fd00::1]:80:x' -> (family, addr, port, rest)."""
    if spec.startswith("["):
        addr, rest = spec[1:].split("]:", 1)
        fam = socket.AF_INET6
    else:
        addr, rest = spec.split(":", 1)
        fam = socket.AF_INET
    port, _, label = rest.partition(":")
    return fam, addr, int(port), label


# ---------------------------------------------------------------- npm stand-in
def npm_tarball():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in (
            ("package/package.json",
             b'{"name":"nvtest-pkg","version":"1.0.0","main":"index.js"}\n'),
            ("package/index.js", b"module.exports = 'nvtest-pkg works';\n"),
        ):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = 1700000000
            ti.mode = 0o644
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


TARBALL = npm_tarball()


def npm_packument(base):
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(TARBALL).digest()).decode()
    v = {
        "name": "nvtest-pkg", "version": "1.0.0", "main": "index.js",
        "dist": {"tarball": base + "/nvtest-pkg/-/nvtest-pkg-1.0.0.tgz",
                 "integrity": integrity,
                 "shasum": hashlib.sha1(TARBALL).hexdigest()},
    }
    return json.dumps({"name": "nvtest-pkg", "dist-tags": {"latest": "1.0.0"},
                       "versions": {"1.0.0": v}}).encode()


# ---------------------------------------------------------------- HTTP
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    label = "?"
    scheme = "http"

    def log_message(self, fmt, *a):  # quiet: our own log says what matters
        pass

    def host(self):
        h = self.headers.get("Host", "")
        if h.startswith("["):
            return h.split("]")[0] + "]"
        return h.split(":")[0].lower()

    def reply(self, code, body, ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def serve(self):
        host = self.host()
        log("http", self.label, self.command, host or "-", self.path.split("?")[0])
        if host == "git.test":
            return self.git()
        if host == "registry.test":
            return self.npm()
        self.reply(200, ("hello from %s host=%s path=%s\n"
                         % (self.label, host or "-", self.path)).encode())

    do_GET = do_POST = do_HEAD = do_PUT = serve

    def npm(self):
        base = "%s://%s" % (self.scheme, self.headers.get("Host", "registry.test"))
        path = self.path.split("?")[0]
        if path == "/nvtest-pkg":
            return self.reply(200, npm_packument(base), "application/json")
        if path == "/nvtest-pkg/-/nvtest-pkg-1.0.0.tgz":
            return self.reply(200, TARBALL, "application/octet-stream")
        self.reply(404, b'{"error":"not found"}\n', "application/json")

    def git(self):
        if self.headers.get("Transfer-Encoding"):
            return self.reply(411, b"length required\n")
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": ARGS["git_root"], "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command, "PATH_INFO": path, "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "REMOTE_ADDR": self.client_address[0], "GATEWAY_INTERFACE": "CGI/1.1",
            "HOME": ARGS["git_root"],
        }
        data = self.body()
        env["CONTENT_LENGTH"] = str(len(data))
        if self.headers.get("Git-Protocol"):
            env["HTTP_GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        r = subprocess.run(["git", "http-backend"], input=data, env=env,
                           capture_output=True, timeout=60)
        out = r.stdout
        sep = out.find(b"\r\n\r\n")
        hlen = 4
        if sep < 0:
            sep, hlen = out.find(b"\n\n"), 2
        if sep < 0:
            return self.reply(500, b"git http-backend failed\n" + r.stderr[:500])
        code, headers = 200, []
        for line in out[:sep].decode("latin-1").splitlines():
            k, _, v = line.partition(":")
            if k.lower() == "status":
                code = int(v.split()[0])
            elif k:
                headers.append((k, v.strip()))
        payload = out[sep + hlen:]
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)


class TLSHandler(Handler):
    scheme = "https"
    ctx = None

    def setup(self):
        self.skip = False
        self.request.settimeout(20)
        try:
            first = self.request.recv(1, socket.MSG_PEEK)
        except OSError:
            first = b""
        if not first:
            log("tls", self.label, "no-data")
            self.skip = True
        else:
            try:
                self.request = self.ctx.wrap_socket(self.request, server_side=True)
                self.connection = self.request
            except (ssl.SSLError, OSError) as e:
                log("tls", self.label, "failed", type(e).__name__)
                self.skip = True
        super().setup()

    def handle(self):
        if not self.skip:
            try:
                super().handle()
            except (ssl.SSLError, OSError):
                pass


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fam, addr, handler):
        self.address_family = fam
        super().__init__(addr, handler)


def tls_context(label):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(ARGS["cert"], ARGS["key"])

    def sni(sock, name, c):
        log("tls", label, "sni=%s" % (name or "-"))
    ctx.sni_callback = sni
    return ctx


# ---------------------------------------------------------------- raw TCP, UDP, DNS
def tcp_listener(fam, addr, port, label):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)

    def run():
        while True:
            c, _ = s.accept()
            log("tcp", label, "connect")
            try:
                c.sendall((label + "\n").encode())
            except OSError:
                pass
            c.close()
    return run


def udp_listener(fam, addr, port, label):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, port))

    def run():
        while True:
            data, _ = s.recvfrom(65535)
            log("udp", label, printable(data))
    return run


def dns_name(pkt, off):
    labels = []
    while off < len(pkt):
        n = pkt[off]
        off += 1
        if n == 0:
            return ".".join(labels), off
        if n & 0xC0:
            raise ValueError("compressed name in a query")
        labels.append(pkt[off:off + n].decode("latin-1"))
        off += n
    raise ValueError("truncated")


def dns_listener(fam, addr, port, mapping):
    table = {}
    for item in filter(None, mapping.split(",")):
        name, _, addrs = item.partition("=")
        table[name.lower()] = addrs.split("+")
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, port))

    def answer(pkt):
        qid, flags, qd = struct.unpack("!HHH", pkt[:6])
        name, off = dns_name(pkt, 12)
        qtype, _ = struct.unpack("!HH", pkt[off:off + 4])
        question = pkt[12:off + 4]
        log("dns", printable(name.encode("latin-1")), qtype)
        addrs = table.get(name.lower().rstrip("."))
        rrs = []
        for a in addrs or []:
            if qtype == 1 and ":" not in a:
                rrs.append(struct.pack("!HHHIH", 0xC00C, 1, 1, 5, 4) + socket.inet_aton(a))
            if qtype == 28 and ":" in a:
                rrs.append(struct.pack("!HHHIH", 0xC00C, 28, 1, 5, 16)
                           + socket.inet_pton(socket.AF_INET6, a))
        rcode = 0 if addrs is not None else 3  # NXDOMAIN for unknown names
        hdr = struct.pack("!HHHHHH", qid, 0x8180 | rcode | (flags & 0x0100), 1, len(rrs), 0, 0)
        return hdr + question + b"".join(rrs)

    def run():
        while True:
            pkt, peer = s.recvfrom(4096)
            try:
                s.sendto(answer(pkt), peer)
            except (ValueError, struct.error, IndexError):
                log("dns", "malformed", printable(pkt))
    return run


def main():
    global LOG
    argv = sys.argv[1:]
    listeners = []
    while argv:
        a = argv.pop(0)
        if a in ("--log", "--ready", "--cert", "--key", "--git-root"):
            ARGS[a[2:].replace("-", "_")] = argv.pop(0)
        else:
            listeners.append(a)
    LOG = open(ARGS["log"], "a")
    runs = []
    for spec in listeners:
        kind, _, rest = spec.partition(":")
        fam, addr, port, label = split_addr(rest)
        if kind in ("http", "https"):
            base = TLSHandler if kind == "https" else Handler
            attrs = {"label": label}
            if kind == "https":
                attrs["ctx"] = tls_context(label)
            srv = Server(fam, (addr, port), type("H", (base,), attrs))
            runs.append(srv.serve_forever)
        elif kind == "tcp":
            runs.append(tcp_listener(fam, addr, port, label))
        elif kind == "udp":
            runs.append(udp_listener(fam, addr, port, label))
        elif kind == "dns":
            runs.append(dns_listener(fam, addr, port, label))
        else:
            sys.exit("netvec-srv: unknown listener " + spec)
    for r in runs:
        threading.Thread(target=r, daemon=True).start()
    with open(ARGS["ready"], "w") as f:
        f.write("ready\n")
    threading.Event().wait()


if __name__ == "__main__":
    main()
