#!/usr/bin/env python3
"""badbackend.py: a scripted HTTP/1.1 backend that misbehaves on purpose.

Raw sockets, python3 stdlib only, 127.0.0.1 only. For each connection it
reads a request head (and, unless told not to, its Content-Length or
chunked body), then answers in the MODE chosen by the request path:

    GET /mode/NAME[?key=value&...]     that mode, with its parameters
    GET /ok  (or any other path)        --mode (default: ok)

Modes ("linger" = after sending, read and discard until the proxy closes
the connection, at most --hold seconds, so the proxy reacts to the bytes
and not to an EOF):

  ok                 200, body "ok NAME bytes=N\\n" (N = request body bytes),
                     keep-alive; the connection serves further requests.
                     A slowly arriving body is read as it comes (slow upload).
  invalid-status     "HTTP/1.1 abc" status line; linger.
  bad-code           status code=N (default 600; try 099) ; linger.
  unsolicited-101    101 Switching Protocols to a request that did not ask
                     to upgrade; linger.
  flood-1xx          n=N (default 1000) "HTTP/1.1 100 Continue" heads, then
                     200 "after-flood\\n"; keep-alive.
  big-head           a 200 head with one header of size=N bytes (default
                     262144, over the proxy's limit); linger.
  obs-fold           a header continued by an obs-fold line; linger.
  nul                a NUL byte inside a header value; linger.
  bare-lf            a header line ended by a bare LF; linger.
  cl-te              Content-Length and Transfer-Encoding: chunked; linger.
  dup-cl             two differing Content-Length headers; linger.
  cl-short           Content-Length: 5 but "hellohello-excess..." in the same
                     write; the connection then serves further requests
                     (a reused connection answers "reused-after-excess").
  cl-long            Content-Length: 100, 10 body bytes, then close.
  close-mid-head     half a response head, then close.
  close-mid-chunked  chunked 200, one whole chunk and half of the next,
                     then close.
  rst                reset (SO_LINGER 0) right after reading the request.
  rst-mid-body       Content-Length: 100000, 1000 bytes, then reset.
  stall-mid-body     Content-Length: 100000, 1000 bytes, then silence
                     (hold until the proxy closes, at most --hold).
  hold               read the request, never answer (hold, as above).
  upgrade-flood      101 (Upgrade: websocket), then bytes=N (default
                     2097152) of data while discarding what the client
                     sends, then close (at most --hold s).
  upgrade-idle       101 (Upgrade: websocket), then silence until the
                     proxy closes the tunnel (at most --hold s).
  early-413          without reading the body: 413 with Connection: close
                     and a body of size=N (default 4096) bytes ending in
                     "end-of-413\\n", then shutdown(SHUT_WR) and drain the
                     request body until EOF (at most --hold s), like nginx's
                     lingering close.

Common parameters: body=skip (do not read the request body first),
delay=SECONDS (wait before answering, at most 60).

Output: "listening on 127.0.0.1:PORT" on stdout once it accepts (and the
port in --port-file when given); one line per event in --log. SIGTERM
closes the listener and exits 0; connections in flight are dropped.
"""

import argparse
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse

MAX_HEAD = 65536
MAX_BODY = 64 << 20

MODES = ("ok", "invalid-status", "bad-code", "unsolicited-101", "flood-1xx",
         "big-head", "obs-fold", "nul", "bare-lf", "cl-te", "dup-cl",
         "cl-short", "cl-long", "close-mid-head", "close-mid-chunked", "rst",
         "rst-mid-body", "stall-mid-body", "hold", "upgrade-flood",
         "upgrade-idle",
         "early-413")


class Log:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = open(path, "a", buffering=1) if path else sys.stderr

    def __call__(self, cid, msg):
        with self.lock:
            self.f.write("%.3f conn=%s %s\n" % (time.time(), cid, msg))


class Closed(Exception):
    """The proxy closed the connection."""


class Conn:
    def __init__(self, srv, sock, cid):
        self.srv = srv
        self.s = sock
        self.cid = cid
        self.buf = b""
        self.nreq = 0

    def log(self, msg):
        self.srv.log(self.cid, msg)

    def recv_more(self, timeout=None):
        if timeout is not None:
            r, _, _ = select.select([self.s], [], [], timeout)
            if not r:
                raise socket.timeout()
        d = self.s.recv(65536)
        if not d:
            raise Closed()
        self.buf += d

    def read_head(self):
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > MAX_HEAD:
                raise ValueError("request head too large")
            self.recv_more(self.srv.a.idle)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = (lines[0].split(" ") + ["", ""])[:3]
        hdrs = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            hdrs.setdefault(k.strip().lower(), v.strip())
        return method, target, hdrs

    def read_body(self, hdrs):
        """Reads a Content-Length or chunked body; returns its size."""
        if "content-length" in hdrs:
            n = int(hdrs["content-length"])
            if n > MAX_BODY:
                raise ValueError("body too large")
            while len(self.buf) < n:
                self.recv_more(self.srv.a.idle)
            self.buf = self.buf[n:]
            return n
        if "chunked" in hdrs.get("transfer-encoding", "").lower():
            total = 0
            while True:
                while b"\r\n" not in self.buf:
                    self.recv_more(self.srv.a.idle)
                line, self.buf = self.buf.split(b"\r\n", 1)
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    while not (self.buf.startswith(b"\r\n") or
                               b"\r\n\r\n" in self.buf):
                        self.recv_more(self.srv.a.idle)
                    if self.buf.startswith(b"\r\n"):
                        self.buf = self.buf[2:]
                    else:
                        self.buf = self.buf.split(b"\r\n\r\n", 1)[1]
                    return total
                while len(self.buf) < size + 2:
                    self.recv_more(self.srv.a.idle)
                self.buf = self.buf[size + 2:]
                total += size
        return 0

    def send(self, data):
        self.s.sendall(data)

    def linger(self, why="linger"):
        """Discards input until the proxy closes, at most --hold s."""
        t0 = time.monotonic()
        end = t0 + self.srv.a.hold
        n = 0
        while not self.srv.stopping:
            left = end - time.monotonic()
            if left <= 0:
                self.log("%s: still open after %.1fs, closing" %
                         (why, self.srv.a.hold))
                return
            r, _, _ = select.select([self.s], [], [], min(left, 0.5))
            if not r:
                continue
            try:
                d = self.s.recv(65536)
            except OSError as e:
                self.log("%s: %s after %.1fs" % (why, e,
                                                 time.monotonic() - t0))
                return
            if not d:
                self.log("%s: proxy closed after %.1fs (%d bytes discarded)"
                         % (why, time.monotonic() - t0, n))
                return
            n += len(d)

    def reset(self):
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack("ii", 1, 0))
        self.s.close()
        self.log("reset sent")

    def serve(self):
        """Serves requests until a mode ends the connection."""
        while not self.srv.stopping:
            try:
                method, target, hdrs = self.read_head()
            except Closed:
                self.log("closed by proxy after %d requests" % self.nreq)
                return
            self.nreq += 1
            u = urllib.parse.urlsplit(target)
            q = dict(urllib.parse.parse_qsl(u.query))
            if u.path.startswith("/mode/"):
                mode = u.path[len("/mode/"):]
            elif u.path == "/ok":
                mode = "ok"
            else:
                mode = self.srv.a.mode
            self.log("request %d: %s %s mode=%s" % (self.nreq, method,
                                                    target, mode))
            if mode not in MODES:
                self.send(b"HTTP/1.1 404 Not Found\r\nContent-Length: 13\r\n"
                          b"Connection: close\r\n\r\nno such mode\n")
                return
            nbody = 0
            if mode != "early-413" and q.get("body") != "skip":
                nbody = self.read_body(hdrs)
                self.log("request %d: body of %d bytes read" %
                         (self.nreq, nbody))
            if "delay" in q:
                time.sleep(min(float(q["delay"]), 60))
            fn = getattr(self, "m_" + mode.replace("-", "_"))
            if not fn(q, hdrs, nbody):
                return

    # Each m_* returns True to keep serving the connection.

    def m_ok(self, q, hdrs, nbody):
        if self.nreq > 1 and self.excess_sent:
            body = b"reused-after-excess\n"
        else:
            body = b"ok %s bytes=%d\n" % (self.srv.a.name.encode(), nbody)
        self.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                  b"X-Backend: %s\r\n\r\n%s" % (len(body),
                                              self.srv.a.name.encode(), body))
        return hdrs.get("connection", "").lower() != "close"

    excess_sent = False

    def bad_head(self, head):
        self.send(head)
        self.log("sent %d bytes of bad head" % len(head))
        self.linger()
        return False

    def m_invalid_status(self, q, hdrs, nbody):
        return self.bad_head(b"HTTP/1.1 abc\r\nContent-Length: 2\r\n\r\nok")

    def m_bad_code(self, q, hdrs, nbody):
        code = q.get("code", "600").encode()
        return self.bad_head(b"HTTP/1.1 %s Odd\r\nContent-Length: 2\r\n\r\nok"
                             % code)

    def m_unsolicited_101(self, q, hdrs, nbody):
        return self.bad_head(b"HTTP/1.1 101 Switching Protocols\r\n"
                             b"Connection: Upgrade\r\nUpgrade: websocket\r\n"
                             b"\r\nraw-bytes-after-101")

    def m_flood_1xx(self, q, hdrs, nbody):
        n = min(int(q.get("n", "1000")), 100000)
        self.send(b"HTTP/1.1 100 Continue\r\n\r\n" * n)
        self.send(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n"
                  b"after-flood\n")
        self.log("sent %d 100 heads and a 200" % n)
        return True

    def m_big_head(self, q, hdrs, nbody):
        n = min(int(q.get("size", "262144")), 16 << 20)
        return self.bad_head(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * n +
                             b"\r\nContent-Length: 2\r\n\r\nok")

    def m_obs_fold(self, q, hdrs, nbody):
        return self.bad_head(b"HTTP/1.1 200 OK\r\nX-Folded: a\r\n  b\r\n"
                             b"Content-Length: 2\r\n\r\nok")

    def m_nul(self, q, hdrs, nbody):
        return self.bad_head(b"HTTP/1.1 200 OK\r\nX-Nul: a\x00b\r\n"
                             b"Content-Length: 2\r\n\r\nok")

    def m_bare_lf(self, q, hdrs, nbody):
        return self.bad_head(b"HTTP/1.1 200 OK\r\nX-A: a\nX-B: b\r\n"
                             b"Content-Length: 2\r\n\r\nok")

    def m_cl_te(self, q, hdrs, nbody):
        return self.bad_head(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n"
                             b"0\r\n\r\nhello")

    def m_dup_cl(self, q, hdrs, nbody):
        return self.bad_head(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                             b"Content-Length: 3\r\n\r\nokk")

    def m_cl_short(self, q, hdrs, nbody):
        self.send(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
                  b"hellohello-excess\r\nHTTP/1.1 200 OK\r\n"
                  b"Content-Length: 8\r\n\r\nsmuggled")
        self.excess_sent = True
        self.log("sent 5 body bytes and an excess with a smuggled response")
        return True

    def m_cl_long(self, q, hdrs, nbody):
        self.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
                  b"0123456789")
        self.log("sent 10 of 100 body bytes, closing")
        return False

    def m_close_mid_head(self, q, hdrs, nbody):
        self.send(b"HTTP/1.1 200 OK\r\nContent-Ty")
        self.log("sent half a head, closing")
        return False

    def m_close_mid_chunked(self, q, hdrs, nbody):
        self.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"5\r\nhello\r\n10\r\nabcdef")
        self.log("sent a chunk and a half, closing")
        return False

    def m_rst(self, q, hdrs, nbody):
        self.reset()
        return False

    def m_rst_mid_body(self, q, hdrs, nbody):
        self.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" +
                  b"x" * 1000)
        time.sleep(0.2)
        self.reset()
        return False

    def m_stall_mid_body(self, q, hdrs, nbody):
        self.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" +
                  b"x" * 1000)
        self.linger("stall")
        return False

    def m_hold(self, q, hdrs, nbody):
        self.linger("hold")
        return False

    def m_upgrade_idle(self, q, hdrs, nbody):
        self.send(b"HTTP/1.1 101 Switching Protocols\r\n"
                  b"Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        self.linger("idle tunnel")
        return False

    def m_upgrade_flood(self, q, hdrs, nbody):
        n = min(int(q.get("bytes", "2097152")), 64 << 20)
        self.send(b"HTTP/1.1 101 Switching Protocols\r\n"
                  b"Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        # Send n bytes while reading (and discarding) whatever the client
        # sends through the tunnel, so that the close is a FIN, not a RST.
        piece = bytes(range(256)) * 64
        sent = got = 0
        end = time.monotonic() + self.srv.a.hold
        self.s.setblocking(False)
        while sent < n and time.monotonic() < end and not self.srv.stopping:
            r, w, _ = select.select([self.s], [self.s], [], 0.5)
            if r:
                try:
                    d = self.s.recv(65536)
                except BlockingIOError:
                    d = None
                if d == b"":
                    self.log("tunnel closed by the proxy after %d bytes"
                             % sent)
                    return False
                got += len(d or b"")
            if w:
                try:
                    sent += self.s.send(piece[:min(len(piece), n - sent)])
                except BlockingIOError:
                    pass
        try:
            got += len(self.s.recv(65536))
        except (BlockingIOError, OSError):
            pass
        self.log("101 and %d tunnel bytes sent, %d read, closing" %
                 (sent, got))
        return False

    def m_early_413(self, q, hdrs, nbody):
        n = max(min(int(q.get("size", "4096")), 1 << 20), 11)
        body = b"x" * (n - 11) + b"end-of-413\n"
        self.send(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: %d\r\n"
                  b"Connection: close\r\n\r\n%s" % (n, body))
        self.log("413 sent before the body (%d buffered)" % len(self.buf))
        self.s.shutdown(socket.SHUT_WR)
        self.linger("drain body")
        return False


class Server:
    def __init__(self, a):
        self.a = a
        self.log = Log(a.log)
        self.stopping = False
        self.next_id = 0

    def conn_thread(self, sock, cid):
        c = Conn(self, sock, cid)
        try:
            c.serve()
        except Closed:
            c.log("closed by proxy")
        except socket.timeout:
            c.log("idle timeout")
        except (OSError, ValueError) as e:
            c.log("error: %s" % e)
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def run(self):
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.a.port))
        ls.listen(128)
        port = ls.getsockname()[1]
        if self.a.port_file:
            tmp = self.a.port_file + ".tmp"
            with open(tmp, "w") as f:
                f.write("%d\n" % port)
            os.rename(tmp, self.a.port_file)
        self.log("-", "listening on 127.0.0.1:%d" % port)
        print("listening on 127.0.0.1:%d" % port, flush=True)
        while not self.stopping:
            try:
                r, _, _ = select.select([ls], [], [], 0.2)
            except InterruptedError:
                continue
            if not r:
                continue
            try:
                s, _ = ls.accept()
            except OSError:
                continue
            self.next_id += 1
            threading.Thread(target=self.conn_thread,
                             args=(s, self.next_id), daemon=True).start()
        ls.close()
        self.log("-", "SIGTERM: stopped after %d connections" % self.next_id)
        return 0


def main():
    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog=__doc__.split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0,
                   help="port on 127.0.0.1 (0: any free port; see output)")
    p.add_argument("--name", default="BAD", help="name in ok bodies")
    p.add_argument("--log", help="event log file (default stderr)")
    p.add_argument("--port-file", help="write the port here when ready")
    p.add_argument("--mode", default="ok", choices=MODES,
                   help="mode for paths other than /mode/NAME and /ok")
    p.add_argument("--hold", type=float, default=30,
                   help="longest linger/hold in seconds (default 30)")
    p.add_argument("--idle", type=float, default=60,
                   help="seconds to wait for request bytes (default 60)")
    a = p.parse_args()
    if not 0 < a.hold <= 600 or not 0 < a.idle <= 600:
        p.error("--hold and --idle must be in (0, 600]")
    srv = Server(a)

    def on_term(signum, frame):
        srv.stopping = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    return srv.run()


if __name__ == "__main__":
    sys.exit(main())
