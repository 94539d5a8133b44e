#!/usr/bin/env python3
"""ppclient.py: a client that speaks PROXY protocol before TLS (python3 only).

  ppclient.py PORT [--bind IP] [--header KIND] [--src IP:PORT]
              [--dst IP:PORT] [--cert F --key F] [--ca F] [--path P]
              [--timeout S]

Connects to 127.0.0.1:PORT (from --bind, default 127.0.0.1), writes the
header KIND, then, for a valid header, does the TLS handshake and one
"GET PATH" with Connection: close, and prints the response to stdout.

  KIND  v1 | v2 (a TCP header naming --src -> --dst, default
        192.0.2.7:4321 -> 127.0.0.1:PORT), v2local (the LOCAL command),
        none (TLS at once), garbage (16 bytes that are no header),
        partial (the first half of a v2 header, then silence),
        partial-close (the same, then a close).

Exit 0: an HTTP response was read; 4: the server closed (or reset) the
connection before a TLS handshake completed: refused; 3: the connection
was still open after --timeout; 2: usage. Only 127.0.0.0/8 is used.
"""

import argparse
import ipaddress
import socket
import ssl
import struct
import sys
import time

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def hostport(s):
    host, _, port = s.rpartition(":")
    return ipaddress.ip_address(host.strip("[]")), int(port)


def header(kind, src, dst):
    (sa, sp), (da, dp) = src, dst
    if kind == "v1":
        fam = "TCP4" if sa.version == 4 else "TCP6"
        return f"PROXY {fam} {sa} {da} {sp} {dp}\r\n".encode()
    if kind == "v2local":
        return SIG + b"\x20\x00\x00\x00"
    fam = 0x11 if sa.version == 4 else 0x21
    body = sa.packed + da.packed + struct.pack("!HH", sp, dp)
    # a TLV the receiver must skip: PP2_TYPE_NOOP
    body += b"\x04\x00\x03abc"
    return SIG + bytes([0x21, fam]) + struct.pack("!H", len(body)) + body


def wait_closed(sock, timeout):
    """4 when the peer closes or resets within timeout, else 3."""
    sock.settimeout(timeout)
    try:
        while sock.recv(4096):
            pass
    except socket.timeout:
        return 3
    except OSError:
        pass
    return 4


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--header", default="v2")
    ap.add_argument("--src", default="192.0.2.7:4321")
    ap.add_argument("--dst")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--ca")
    ap.add_argument("--path", default="/headers")
    ap.add_argument("--timeout", type=float, default=10)
    a = ap.parse_args()
    if not a.bind.startswith("127."):
        print("ppclient: only 127.0.0.0/8", file=sys.stderr)
        return 2
    dst = a.dst or f"127.0.0.1:{a.port}"
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((a.bind, 0))
    sock.settimeout(a.timeout)
    sock.connect(("127.0.0.1", a.port))
    kind = a.header
    try:
        if kind in ("v1", "v2", "v2local"):
            sock.sendall(header(kind, hostport(a.src), hostport(dst)))
        elif kind == "garbage":
            sock.sendall(b"HELLO THERE 1234")
        elif kind in ("partial", "partial-close"):
            sock.sendall(header("v2", hostport(a.src), hostport(dst))[:10])
            if kind == "partial-close":
                sock.shutdown(socket.SHUT_WR)
            return wait_closed(sock, a.timeout)
        elif kind != "none":
            print(f"ppclient: unknown header kind {kind}", file=sys.stderr)
            return 2
    except OSError as e:
        print(f"ppclient: send: {e}", file=sys.stderr)
        return 4
    if kind == "garbage":
        return wait_closed(sock, a.timeout)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    if a.ca:
        ctx.load_verify_locations(a.ca)
    else:
        ctx.verify_mode = ssl.CERT_NONE
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    deadline = time.monotonic() + a.timeout
    try:
        tls = ctx.wrap_socket(sock)
    except socket.timeout:
        return 3
    except (ssl.SSLError, OSError) as e:
        print(f"ppclient: handshake: {e}", file=sys.stderr)
        return 4
    try:
        tls.sendall(f"GET {a.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Connection: close\r\n\r\n".encode())
    except (ssl.SSLError, OSError) as e:
        print(f"ppclient: send: {e}", file=sys.stderr)
        return 4
    data = b""
    try:
        while time.monotonic() < deadline:
            b = tls.recv(65536)
            if not b:
                break
            data += b
    except (ssl.SSLError, OSError):
        pass
    sys.stdout.write(data.decode("latin-1"))
    if not data.startswith(b"HTTP/1."):
        # TLS 1.3: a rejection can come after the client's Finished
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
