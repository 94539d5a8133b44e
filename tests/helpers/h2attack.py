#!/usr/bin/python3
"""h2attack.py: misbehaving HTTP/2 clients for 43-h2-attacks.sh.

  h2attack.py ATTACK PORT [--cert F --key F --ca F --timeout S --n N]

Speaks HTTP/2 over TLS (ALPN h2) with raw frames, so that it can send
what a correct client library refuses to; HPACK via the hpack module
(Debian python3-hpack, a dependency of python3-h2). Prints one line
"result: KEY=VALUE ..." describing how the server ended the exchange:
goaway=CODE (the GOAWAY error code name), rst=CODE (a RST_STREAM on the
attacked stream), status=NNN (a response), closed=eof|reset|timeout, and
sent=N (how many attack units went out before the end). Exit 0 when the
exchange ended as the ATTACK's RFC answer says (see EXPECT), 1 otherwise,
2 on a usage or connection error. Everything is bounded by --timeout.

Attacks: rapid-reset continuation-flood hpack-bomb settings-flood
ping-flood zero-window stream-reuse even-stream data-over-window
conn-header host-conflict early-close reset-mid garbage-preface ok
"""

import argparse
import os
import socket
import ssl
import struct
import sys
import time

import hpack

DATA, HEADERS, PRIORITY, RST, SETTINGS, PUSH, PING, GOAWAY, WINUPD, CONT = \
    range(10)
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
CODES = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR",
         3: "FLOW_CONTROL_ERROR", 4: "SETTINGS_TIMEOUT", 5: "STREAM_CLOSED",
         6: "FRAME_SIZE_ERROR", 7: "REFUSED_STREAM", 8: "CANCEL",
         9: "COMPRESSION_ERROR", 10: "CONNECT_ERROR",
         11: "ENHANCE_YOUR_CALM", 12: "INADEQUATE_SECURITY",
         13: "HTTP_1_1_REQUIRED"}
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", sid & 0x7fffffff) + payload


class Conn:
    def __init__(self, a):
        self.a = a
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        if a.ca:
            ctx.load_verify_locations(a.ca)
        else:
            ctx.verify_mode = ssl.CERT_NONE
        if a.cert:
            ctx.load_cert_chain(a.cert, a.key)
        ctx.set_alpn_protocols(["h2"])
        raw = socket.create_connection(("127.0.0.1", a.port), timeout=10)
        self.s = ctx.wrap_socket(raw, server_hostname="localhost")
        if self.s.selected_alpn_protocol() != "h2":
            print("result: alpn=%s" % self.s.selected_alpn_protocol())
            sys.exit(2)
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()
        self.buf = b""
        self.result = {}
        self.authority = "127.0.0.1:%d" % a.port

    def send(self, b):
        self.s.sendall(b)

    def start(self, settings=b""):
        self.send(PREFACE + frame(SETTINGS, 0, 0, settings))

    def head(self, sid, path="/", method="GET", extra=(), end=True):
        hdrs = [(":method", method), (":scheme", "https"),
                (":authority", self.authority), (":path", path)]
        hdrs += list(extra)
        block = self.enc.encode(hdrs)
        flags = END_HEADERS | (END_STREAM if end else 0)
        return frame(HEADERS, flags, sid, block)

    def read_frame(self, deadline):
        while len(self.buf) < 9 or \
                len(self.buf) < 9 + int.from_bytes(self.buf[:3], "big"):
            left = deadline - time.monotonic()
            if left <= 0:
                self.result.setdefault("closed", "timeout")
                return None
            self.s.settimeout(left)
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                self.result.setdefault("closed", "timeout")
                return None
            except (ConnectionResetError, BrokenPipeError):
                self.result.setdefault("closed", "reset")
                return None
            except ssl.SSLError:
                self.result.setdefault("closed", "reset")
                return None
            if not d:
                self.result.setdefault("closed", "eof")
                return None
            self.buf += d
        n = int.from_bytes(self.buf[:3], "big")
        f = (self.buf[3], self.buf[4],
             int.from_bytes(self.buf[5:9], "big") & 0x7fffffff,
             self.buf[9:9 + n])
        self.buf = self.buf[9 + n:]
        return f

    def note(self, f, sid=None):
        """Records what frame f means; True when the exchange is over."""
        t, fl, s, p = f
        if t == GOAWAY:
            self.result["goaway"] = CODES.get(
                int.from_bytes(p[4:8], "big"), "?")
            return True
        if t == RST and (sid is None or s == sid):
            self.result["rst"] = CODES.get(int.from_bytes(p[:4], "big"), "?")
            return sid is not None
        if t == HEADERS and (sid is None or s == sid):
            try:
                for k, v in self.dec.decode(p if not fl & 0x8 else
                                            p[1:len(p) - p[0]]):
                    if k in (b":status", ":status"):
                        v = v.decode() if isinstance(v, bytes) else v
                        if not v.startswith("1"):
                            self.result["status"] = v
            except Exception:   # a block split over CONTINUATION: ignore
                pass
            if fl & END_STREAM:
                return sid is not None
        if t == DATA and fl & END_STREAM and (sid is None or s == sid):
            return sid is not None
        if t == SETTINGS and not fl & ACK:
            try:
                self.send(frame(SETTINGS, ACK, 0))
            except OSError:
                pass
        return False

    def until_end(self, sid=None, secs=None):
        deadline = time.monotonic() + (secs or self.a.timeout)
        while True:
            f = self.read_frame(deadline)
            if f is None or self.note(f, sid):
                return

    def drain_nowait(self):
        """Reads what is there without waiting; True once it ended."""
        ended = False
        self.s.setblocking(False)
        try:
            while True:
                d = self.s.recv(65536)
                if not d:
                    ended = "eof"
                    break
                self.buf += d
        except (ssl.SSLWantReadError, BlockingIOError):
            pass
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            ended = "reset"
        finally:
            self.s.setblocking(True)
        # the frames that came before the end count first
        while len(self.buf) >= 9 and len(self.buf) >= \
                9 + int.from_bytes(self.buf[:3], "big"):
            if self.note(self.read_frame(time.monotonic() + 1)):
                return True
        if ended:
            self.result.setdefault("closed", ended)
            return True
        return False


def ended_early(c, sent, n):
    """The server cut the flood short: a GOAWAY, or a close before the
    flooder was done (a close while it still sends may reach it as a
    reset before it could read the GOAWAY)."""
    return "goaway" in c.result or \
        (c.result.get("closed") in ("eof", "reset") and sent < n)


def rapid_reset(c, a):
    c.start()
    sent = 0
    try:
        for i in range(a.n):
            sid = 1 + 2 * i
            c.send(c.head(sid, "/?rapid=%d" % i) +
                   frame(RST, 0, sid, struct.pack(">I", 8)))
            sent += 1
            if i % 50 == 0 and c.drain_nowait():
                break
    except OSError:
        c.result.setdefault("closed", "reset")
    c.result["sent"] = sent
    c.until_end()
    return c.result.get("goaway") == "ENHANCE_YOUR_CALM" or \
        ("goaway" not in c.result and ended_early(c, sent, a.n))


def continuation_flood(c, a):
    c.start()
    block = c.enc.encode([(":method", "GET"), (":scheme", "https"),
                          (":authority", c.authority), (":path", "/")])
    sent = 0
    try:
        c.send(frame(HEADERS, END_STREAM, 1, block))
        filler = hpack.Encoder().encode([("x-flood", "a" * 8)])
        for i in range(a.n):
            c.send(frame(CONT, 0, 1, filler))
            sent += 1
            if i % 100 == 0 and c.drain_nowait():
                break
    except OSError:
        c.result.setdefault("closed", "reset")
    c.result["sent"] = sent
    c.until_end()
    return "status" not in c.result and ended_early(c, sent, a.n)


def hpack_bomb(c, a):
    c.start()
    # one 4000-byte field into the dynamic table, then referenced 100
    # times: 4 KB on the wire, 400 KB decompressed
    name, value = b"x-bomb", b"a" * 4000
    block = bytes([0x82, 0x87, 0x84]) + hpack.Encoder().encode(
        [(":authority", c.authority)])
    lit = bytes([0x40, len(name)]) + name + bytes([0x7f]) + \
        _int(len(value) - 127) + value
    block += lit + bytes([0xbe]) * 100
    c.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, block))
    c.result["sent"] = 1
    c.until_end(1)
    return c.result.get("status") == "431" or "rst" in c.result or \
        c.result.get("goaway") == "COMPRESSION_ERROR"


def _int(n):
    out = b""
    while n >= 128:
        out += bytes([(n & 0x7f) | 0x80])
        n >>= 7
    return out + bytes([n])


def flood(c, a, ftype):
    c.start()
    sent = 0
    try:
        for i in range(a.n):
            if ftype == PING:
                c.send(frame(PING, 0, 0, struct.pack(">Q", i)))
            else:
                c.send(frame(SETTINGS, 0, 0))
            sent += 1
            # the flooder does not read: its ACKs pile up in the server
    except OSError:
        c.result.setdefault("closed", "reset")
    c.result["sent"] = sent
    c.until_end()
    return c.result.get("goaway") == "ENHANCE_YOUR_CALM" or \
        ended_early(c, sent, a.n)


def zero_window(c, a):
    # SETTINGS_INITIAL_WINDOW_SIZE = 0, never a WINDOW_UPDATE
    c.start(struct.pack(">HI", 4, 0))
    c.send(c.head(1, a.path))
    c.result["sent"] = 1
    c.until_end(1)
    return c.result.get("closed") in ("eof", "reset") or "goaway" in c.result


def stream_reuse(c, a):
    # a second HEADERS on stream 1 while it is half-closed (remote): the
    # server must not take it as a new request (RFC 9113 5.1: STREAM_CLOSED)
    c.start()
    c.send(c.head(1, "/delay/1000?reuse1") + c.head(1, "/?reuse2"))
    c.result["sent"] = 2
    c.until_end()
    return c.result.get("goaway") in ("PROTOCOL_ERROR", "STREAM_CLOSED")


def even_stream(c, a):
    c.start()
    c.send(c.head(2, "/?even"))
    c.result["sent"] = 1
    c.until_end()
    return c.result.get("goaway") == "PROTOCOL_ERROR"


def data_over_window(c, a):
    # the backend (/delay) reads nothing: once backpressure holds, the
    # window stays shut, and a client that sends on regardless overruns it
    # (its stream window is 64 KiB: it never got a WINDOW_UPDATE it used).
    # /stall answers only after 300 s and reads none of the body (/delay
    # reads the whole body first: with it the window shut only when the
    # daemon fell behind the client, and a fast daemon never did); the
    # daemon's backend_timeout bounds the case.
    c.start()
    c.send(c.head(1, "/stall/300000", "POST", end=False))
    sent = 0
    # (the kernel's socket buffers towards the backend take tens of MiB
    # first: tcp_rmem may allow 32 MiB)
    try:
        while sent < 1 << 30:
            c.send(frame(DATA, 0, 1, b"x" * 16384))
            sent += 16384
            if sent % (1 << 20) == 0 and (c.drain_nowait() or
                                          "rst" in c.result):
                break
    except OSError:
        pass
    c.result["sent"] = sent
    if "rst" not in c.result and "goaway" not in c.result:
        c.until_end(1)
    return "FLOW_CONTROL_ERROR" in (c.result.get("rst"),
                                    c.result.get("goaway"))


def conn_header(c, a):
    c.start()
    c.send(c.head(1, "/?connhdr", extra=[("connection", "keep-alive")]))
    c.result["sent"] = 1
    c.until_end(1)
    return c.result.get("rst") == "PROTOCOL_ERROR"


def host_conflict(c, a):
    c.start()
    c.send(c.head(1, "/?hostconflict", extra=[("host", "evil.example")]))
    c.result["sent"] = 1
    c.until_end(1)
    return c.result.get("rst") == "PROTOCOL_ERROR"


def early_close(c, a):
    c.start()
    c.send(c.head(1, "/upload", "POST", extra=[("content-length", "100000")],
                  end=False) + frame(DATA, 0, 1, b"x" * 1000))
    time.sleep(0.2)
    c.s.close()
    c.result["sent"] = 1
    print("result: closed=client")
    return True


def reset_mid(c, a):
    c.start()
    c.send(c.head(1, "/bytes/50000000"))
    deadline = time.monotonic() + a.timeout
    got = 0
    while got < 32768:      # within the initial window of 65535
        f = c.read_frame(deadline)
        if f is None:
            return False
        if f[0] == DATA and f[2] == 1:
            got += len(f[3])
        else:
            c.note(f)       # HPACK state, SETTINGS ACK
    # cancel it, give the connection's window back, and go on: the next
    # stream is served
    c.send(frame(RST, 0, 1, struct.pack(">I", 8)) +
           frame(WINUPD, 0, 0, struct.pack(">I", 1 << 20)) + c.head(3, "/"))
    c.result.clear()
    c.until_end(3)
    c.result["sent"] = got
    return c.result.get("status") == "200"


def garbage_preface(c, a):
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    c.result["sent"] = 1
    c.until_end()
    return c.result.get("closed") in ("eof", "reset") or \
        "goaway" in c.result


def ok(c, a):
    c.start()
    c.send(c.head(1, a.path))
    c.until_end(1)
    return c.result.get("status") == "200"


ATTACKS = {
    "rapid-reset": rapid_reset, "continuation-flood": continuation_flood,
    "hpack-bomb": hpack_bomb,
    "settings-flood": lambda c, a: flood(c, a, SETTINGS),
    "ping-flood": lambda c, a: flood(c, a, PING),
    "zero-window": zero_window, "stream-reuse": stream_reuse,
    "even-stream": even_stream, "data-over-window": data_over_window,
    "conn-header": conn_header, "host-conflict": host_conflict,
    "early-close": early_close, "reset-mid": reset_mid,
    "garbage-preface": garbage_preface, "ok": ok,
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("attack", choices=sorted(ATTACKS))
    p.add_argument("port", type=int)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--ca")
    p.add_argument("--timeout", type=float, default=20)
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--path", default="/")
    a = p.parse_args()
    try:
        c = Conn(a)
    except (OSError, ssl.SSLError) as e:
        print("result: connect-error=%s" % e)
        return 2
    good = ATTACKS[a.attack](c, a)
    if a.attack != "early-close":
        print("result: " + " ".join("%s=%s" % kv for kv in
                                   sorted(c.result.items())))
    try:
        c.s.close()
    except OSError:
        pass
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
