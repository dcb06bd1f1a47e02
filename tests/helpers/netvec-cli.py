#!/usr/bin/env python3
"""netvec-cli: what a hostile program inside the sandbox tries, for
tests/integ/t-netvectors.sh.  Each command prints one line saying what
happened (errors by errno name), and exits 0 unless its arguments are wrong.

    raw BYTES            send BYTES (Python escapes: \\r \\n \\x00) to the proxy;
                         prints "status N" and the refusal's reason and flag lines
    socks HOST PORT [CMD [PATH]]
                         SOCKS5 greeting + request for a domain name (CMD 1
                         connect, 3 udp associate; HOST may hold escapes);
                         prints "socks rep=N"; when the tunnel opens, sends
                         GET PATH (default /) through it
    socksip ADDR PORT [PATH]  the same with an IPv4 or IPv6 address (ATYP 1/4)
    sni HOST PORT SNI CAFILE
                         CONNECT HOST:PORT, then TLS with SNI; prints
                         "tls ok <first response line>" or "tls error <why>"
    tcp ADDR PORT        a direct TCP connect: "tcp connected" / "tcp error E"
    udp ADDR PORT TOKEN  a direct UDP datagram: "udp sent" / "udp error E"
    dnsq SERVER NAME     a DNS query straight to SERVER:53 over UDP:
                         "dns answered" / "dns error E"
    resolve NAME         getaddrinfo: "resolve ADDR" / "resolve error"
The proxy is 127.0.0.1:3128 (the sandbox's listener), as the proxy variables say.
"""
import codecs
import errno
import socket
import ssl
import struct
import sys

PROXY = ("127.0.0.1", 3128)


def ename(e):
    return errno.errorcode.get(e.errno, str(e)) if getattr(e, "errno", None) else type(e).__name__


def unescape(s):
    return codecs.decode(s, "unicode_escape").encode("latin-1")


def proxy_sock():
    s = socket.create_connection(PROXY, timeout=10)
    return s


def read_all(s, limit=65536):
    out = b""
    while len(out) < limit:
        try:
            b = s.recv(4096)
        except (socket.timeout, OSError):
            break
        if not b:
            break
        out += b
    return out


def cmd_raw(data):
    s = proxy_sock()
    s.sendall(unescape(data))
    try:
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    out = read_all(s).decode("latin-1")
    s.close()
    lines = out.split("\r\n")
    status = lines[0].split()[1] if lines and len(lines[0].split()) > 1 else "none"
    print("status", status)
    for line in out.splitlines():
        if line.startswith(("reason:", "To allow it", "No flag", "safehouse", "hello from")):
            print(" ", line)


def socks_request(addr, port, cmd, path, host):
    s = proxy_sock()
    s.sendall(b"\x05\x01\x00")
    if s.recv(2) != b"\x05\x00":
        print("socks greeting refused")
        return
    s.sendall(bytes([5, int(cmd), 0]) + addr + struct.pack("!H", int(port)))
    rep = s.recv(10)
    print("socks rep=%d" % (rep[1] if len(rep) > 1 else -1))
    if len(rep) > 1 and rep[1] == 0:
        s.sendall(b"GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path.encode(), host))
        first = read_all(s).split(b"\r\n\r\n", 1)
        print("  body", first[-1].decode("latin-1").strip())
    s.close()


def cmd_socks(host, port, cmd="1", path="/"):
    h = unescape(host)
    socks_request(bytes([3, len(h)]) + h, port, cmd, path, h)


def cmd_socksip(addr, port, path="/"):
    if ":" in addr:
        a = bytes([4]) + socket.inet_pton(socket.AF_INET6, addr)
    else:
        a = bytes([1]) + socket.inet_aton(addr)
    socks_request(a, port, 1, path, addr.encode())


def cmd_sni(host, port, sni, cafile):
    s = proxy_sock()
    s.sendall(b"CONNECT %s:%s HTTP/1.1\r\nHost: %s:%s\r\n\r\n"
              % (host.encode(), port.encode(), host.encode(), port.encode()))
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(1)
        if not b:
            break
        head += b
    if b" 200 " not in head.split(b"\r\n")[0]:
        print("connect refused", head.split(b"\r\n")[0].decode("latin-1"))
        return
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False  # the point is the SNI we send, not the answer
    try:
        t = ctx.wrap_socket(s, server_hostname=sni)
        t.sendall(b"GET / HTTP/1.0\r\nHost: %s\r\n\r\n" % host.encode())
        print("tls ok", read_all(t).decode("latin-1").split("\r\n")[0])
    except (ssl.SSLError, OSError) as e:
        print("tls error", getattr(e, "reason", None) or ename(e))


def cmd_tcp(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    try:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect((addr, int(port)))
        print("tcp connected")
    except OSError as e:
        print("tcp error", ename(e))


def cmd_udp(addr, port, token):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    try:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.sendto(token.encode(), (addr, int(port)))
        print("udp sent")
    except OSError as e:
        print("udp error", ename(e))


def cmd_dnsq(server, name):
    q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack("!HH", 1, 1)
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    try:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(2)
        s.sendto(q, (server, 53))
        s.recvfrom(4096)
        print("dns answered")
    except OSError as e:
        print("dns error", ename(e))


def cmd_resolve(name):
    try:
        print("resolve", socket.getaddrinfo(name, 80, proto=socket.IPPROTO_TCP)[0][4][0])
    except OSError:
        print("resolve error")


def main():
    cmds = {"raw": cmd_raw, "socks": cmd_socks, "socksip": cmd_socksip, "sni": cmd_sni, "tcp": cmd_tcp,
            "udp": cmd_udp, "dnsq": cmd_dnsq, "resolve": cmd_resolve}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    try:
        cmds[sys.argv[1]](*sys.argv[2:])
    except TypeError:
        sys.exit(__doc__)
    except OSError as e:
        print(sys.argv[1], "error", ename(e))


if __name__ == "__main__":
    main()
