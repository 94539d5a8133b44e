#!/usr/bin/env python3
"""ppbackend.py: an HTTP/1.1 backend that expects a PROXY protocol header.

  ppbackend.py --listen 127.0.0.1:PORT [--log FILE]

Each connection must start with a PROXY header (v1 or v2, TLVs decoded:
PP2_TYPE_SSL with its client bits, verify result and the VERSION, CN and
CIPHER sub-TLVs). Every request on the connection is answered 200 with a
text body that says what the header held, one "name: value" a line:

  pp-version: 2            pp-command: PROXY | LOCAL
  pp-src: IP:PORT          pp-dst: IP:PORT
  pp-ssl-client: 7         pp-ssl-verify: 0
  pp-ssl-version: TLSv1.3  pp-ssl-cn: client   pp-ssl-cipher: ...
  request: 1               (the request's number on this connection)

A connection without a valid header is answered 400 and closed. --log
appends one line per connection ("PROXY ..." or "LOCAL" or "BAD ...").
Prints "listening on IP:PORT" once ready. Only 127.0.0.0/8 is served.
"""

import argparse
import ipaddress
import socket
import socketserver
import struct
import sys
import threading

SIG = b"\r\n\r\n\x00\r\nQUIT\n"
LOCK = threading.Lock()


def read_exact(f, n):
    b = f.read(n)
    if b is None or len(b) != n:
        raise EOFError("short read")
    return b


def parse_ssl(v):
    out = {"pp-ssl-client": str(v[0]),
           "pp-ssl-verify": str(struct.unpack("!I", v[1:5])[0])}
    names = {0x21: "pp-ssl-version", 0x22: "pp-ssl-cn",
             0x23: "pp-ssl-cipher", 0x24: "pp-ssl-sig-alg",
             0x25: "pp-ssl-key-alg"}
    off = 5
    while off < len(v):
        t, n = v[off], struct.unpack("!H", v[off + 1:off + 3])[0]
        val = v[off + 3:off + 3 + n]
        if len(val) != n:
            raise ValueError("cut SSL sub-TLV")
        out[names.get(t, f"pp-ssl-0x{t:02x}")] = val.decode("utf-8",
                                                            "replace")
        off += 3 + n
    return out


def read_header(f):
    """A dict of what the header said; raises ValueError when invalid."""
    first = read_exact(f, 1)
    if first == b"P":
        line = first + f.readline(107)
        if not line.endswith(b"\r\n"):
            raise ValueError("v1 line without CRLF")
        parts = line[:-2].decode("ascii").split(" ")
        if parts[0] != "PROXY":
            raise ValueError("no PROXY")
        if parts[1] == "UNKNOWN":
            return {"pp-version": "1", "pp-command": "LOCAL"}
        if parts[1] not in ("TCP4", "TCP6") or len(parts) != 6:
            raise ValueError("bad v1 line " + line.decode())
        return {"pp-version": "1", "pp-command": "PROXY",
                "pp-src": f"{parts[2]}:{parts[4]}",
                "pp-dst": f"{parts[3]}:{parts[5]}"}
    rest = read_exact(f, 15)
    pre = first + rest
    if pre[:12] != SIG or pre[12] >> 4 != 2:
        raise ValueError("bad v2 preamble")
    body = read_exact(f, struct.unpack("!H", pre[14:16])[0])
    if pre[12] & 0xF == 0:
        return {"pp-version": "2", "pp-command": "LOCAL"}
    fam = pre[13] >> 4
    if fam == 1:
        alen, size = 4, 12
    elif fam == 2:
        alen, size = 16, 36
    else:
        raise ValueError(f"family {fam}")
    src = ipaddress.ip_address(body[:alen])
    dst = ipaddress.ip_address(body[alen:2 * alen])
    sp, dp = struct.unpack("!HH", body[2 * alen:2 * alen + 4])
    out = {"pp-version": "2", "pp-command": "PROXY",
           "pp-src": f"{src}:{sp}", "pp-dst": f"{dst}:{dp}"}
    off = size
    while off < len(body):
        t, n = body[off], struct.unpack("!H", body[off + 1:off + 3])[0]
        val = body[off + 3:off + 3 + n]
        if len(val) != n:
            raise ValueError("cut TLV")
        if t == 0x20:
            out.update(parse_ssl(val))
        off += 3 + n
    return out


class Handler(socketserver.StreamRequestHandler):
    def log(self, line):
        if self.server.logfile:
            with LOCK, open(self.server.logfile, "a") as f:
                f.write(line + "\n")

    def handle(self):
        f = self.rfile
        try:
            hdr = read_header(f)
        except (ValueError, EOFError, UnicodeDecodeError, IndexError) as e:
            self.log(f"BAD {e}")
            body = b"no valid PROXY header\n"
            self.wfile.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: "
                             + str(len(body)).encode()
                             + b"\r\nConnection: close\r\n\r\n" + body)
            return
        self.log(" ".join(f"{k}={v}" for k, v in hdr.items()))
        n = 0
        while True:
            line = f.readline(8192)
            if not line:
                return
            n += 1
            close = False
            while True:
                h = f.readline(8192)
                if h in (b"\r\n", b"\n", b""):
                    break
                if h.lower().startswith(b"connection:") and b"close" in h.lower():
                    close = True
            text = "".join(f"{k}: {v}\n" for k, v in hdr.items())
            text += f"request: {n}\n"
            body = text.encode()
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain"
                             b"\r\nContent-Length: " + str(len(body)).encode()
                             + b"\r\n\r\n" + body)
            self.wfile.flush()
            if close:
                return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--log")
    a = ap.parse_args()
    host, _, port = a.listen.rpartition(":")
    if not host.startswith("127."):
        print("ppbackend: only 127.0.0.0/8", file=sys.stderr)
        return 2
    srv = Server((host, int(port)), Handler)
    srv.logfile = a.log
    print(f"listening on {host}:{srv.server_address[1]}", flush=True)
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
