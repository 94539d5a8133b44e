#!/usr/bin/env python3
"""rawtls.py: raw bytes over TLS for the abuse tests (python3 ssl only).

  rawtls.py send PORT [opts] DATA...
      One TLS connection; sends each DATA (Python escapes: \\r \\n \\x00,
      "@FILE" reads a file) as its own write, then reads until the server
      closes or --timeout passes. The response bytes go to stdout, and
      how the connection ended to stderr as one line "rawtls: close=KIND"
      (close_notify, eof, reset, tls_error, timeout).
      Exit 0: the server closed in order (close_notify, or a TCP FIN
      without one: "eof"); 3: still open after --timeout; 4: TLS failed;
      5: the server reset the connection (RST: the client may have lost
      part of the answer, so never a normal close); 6: a TLS error or
      alert from the server after the handshake.
  rawtls.py slowloris PORT [opts] --conns N --hold S
      N connections that each send one byte of a never-ending request head
      every --interval seconds. Prints one summary line
      "conns=N open=N closed=N closed_min=S closed_max=S failed=N" when every
      connection was closed by the server or after --hold seconds.
      Exit 0 when all N connected and all were closed by the server.
  rawtls.py hold PORT [opts] --conns N --hold S
      N TCP connections (--tls: with a finished handshake) that send
      nothing; prints "conns=N closed=N closed_max=S accepted_closed=N"
      (closed at once = within --fast S, default 0.5 s). Exit 0 always
      unless connect fails.
  rawtls.py garbage PORT --bytes N --hold S
      Plain TCP, sends N random bytes; prints "closed_after=S" or
      "closed_after=none" when still open after --hold.

  rawtls.py hello PORT --version 0x0300
      Plain TCP, sends one hand-made ClientHello offering only that legacy
      protocol version (SSLv3 0x0300, TLS 1.0 0x0301, TLS 1.1 0x0302), so
      the test does not depend on what the local OpenSSL may still send.
      Prints "alert=N" (the server's alert description), "serverhello=V"
      (it accepted: bad) or "closed" / "timeout".

Common opts: --cert FILE --key FILE --ca FILE --timeout S.
Everything is bounded by --timeout/--hold; only 127.0.0.1 is used.
"""

import argparse
import asyncio
import os
import socket
import ssl
import sys
import time


def ctx_for(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    if a.ca:
        ctx.load_verify_locations(a.ca)
    else:
        ctx.verify_mode = ssl.CERT_NONE
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    return ctx


def unescape(s):
    if s.startswith("@"):
        with open(s[1:], "rb") as f:
            return f.read()
    return s.encode("latin-1").decode("unicode_escape").encode("latin-1")


def cmd_send(a):
    data = [unescape(d) for d in a.data]
    try:
        raw = socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout)
        # Ragged EOFs raise SSLEOFError, so a FIN without close_notify is
        # told apart from a close_notify (recv returns b"").
        s = ctx_for(a).wrap_socket(raw, server_hostname="localhost",
                                   suppress_ragged_eofs=False)
    except (OSError, ssl.SSLError) as e:
        print("rawtls: TLS failed: %s" % e, file=sys.stderr)
        return 4
    deadline = time.monotonic() + a.timeout
    out = bytearray()
    try:
        for i, d in enumerate(data):
            if i > 0 and a.pause:
                time.sleep(a.pause)
            s.sendall(d)
    except (OSError, ssl.SSLError) as e:
        print("rawtls: send failed: %s" % e, file=sys.stderr)
    rc, close = 3, "timeout"
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        except ssl.SSLEOFError:
            rc, close = 0, "eof"
            break
        except (ConnectionResetError, BrokenPipeError) as e:
            rc, close = 5, "reset (%s)" % e
            break
        except ssl.SSLError as e:
            rc, close = 6, "tls_error (%s)" % e
            break
        except OSError as e:
            rc, close = 5, "reset (%s)" % e
            break
        if not b:
            rc, close = 0, "close_notify"
            break
        out += b
    print("rawtls: close=%s" % close, file=sys.stderr)
    sys.stdout.buffer.write(bytes(out))
    sys.stdout.flush()
    try:
        s.close()
    except OSError:
        pass
    return rc


async def loris(a, ctx, i, res, t0, sem):
    head = b"GET /slow HTTP/1.1\r\nHost: localhost\r\nX-Slow-%d: " % i
    try:
        async with sem:
            r, w = await asyncio.wait_for(asyncio.open_connection(
                "127.0.0.1", a.port, ssl=ctx, server_hostname="localhost"),
                a.timeout)
    except (OSError, ssl.SSLError, asyncio.TimeoutError):
        res["failed"] += 1
        return
    res["open"] += 1
    if res["open"] + res["failed"] == a.conns:
        print("rawtls: all %d open" % res["open"], file=sys.stderr,
              flush=True)
    start = time.monotonic()
    n = 0
    closed = None
    while time.monotonic() - t0 < a.hold:
        b = head[n:n + 1] if n < len(head) else b"a"
        n += 1
        try:
            w.write(b)
            await w.drain()
        except (OSError, ssl.SSLError, ConnectionError):
            closed = time.monotonic() - start
            break
        try:
            got = await asyncio.wait_for(r.read(4096), a.interval)
            # EOF (b"") or an answer: the server is done with us
            closed = time.monotonic() - start
            if got:
                res["answered"] += 1
            break
        except asyncio.TimeoutError:
            continue
        except (OSError, ssl.SSLError, ConnectionError):
            closed = time.monotonic() - start
            break
    if closed is not None:
        res["closed"].append(closed)
    w.transport.abort()


async def slowloris(a):
    ctx = ctx_for(a)
    res = {"open": 0, "failed": 0, "closed": [], "answered": 0}
    t0 = time.monotonic()
    sem = asyncio.Semaphore(50)     # handshakes in flight at once

    await asyncio.gather(*(loris(a, ctx, i, res, t0, sem)
                           for i in range(a.conns)))
    c = res["closed"]
    print("conns=%d open=%d closed=%d closed_min=%.1f closed_max=%.1f "
          "failed=%d answered=%d" % (a.conns, res["open"], len(c),
                                     min(c) if c else -1,
                                     max(c) if c else -1, res["failed"],
                                     res["answered"]))
    sys.stdout.flush()
    return 0 if res["open"] == a.conns and len(c) == a.conns else 1


def cmd_slowloris(a):
    return asyncio.run(slowloris(a))


async def hold_one(a, ctx, res):
    t = time.monotonic()
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(
            "127.0.0.1", a.port, ssl=ctx,
            server_hostname="localhost" if ctx else None), a.timeout)
    except (OSError, ssl.SSLError, asyncio.TimeoutError, ConnectionError):
        # a TLS handshake the server cut: closed at once
        res["closed"].append(time.monotonic() - t)
        return
    try:
        await asyncio.wait_for(r.read(1), max(0.1, a.hold - (time.monotonic() - res["t0"])))
        res["closed"].append(time.monotonic() - t)
    except asyncio.TimeoutError:
        pass
    except (OSError, ssl.SSLError, ConnectionError):
        res["closed"].append(time.monotonic() - t)
    w.transport.abort()


async def hold(a):
    ctx = ctx_for(a) if a.tls else None
    res = {"closed": [], "t0": time.monotonic()}
    await asyncio.gather(*(hold_one(a, ctx, res) for _ in range(a.conns)))
    c = res["closed"]
    print("conns=%d closed=%d closed_max=%.1f accepted_closed=%d" % (
        a.conns, len(c), max(c) if c else -1,
        len([x for x in c if x < a.fast])))
    return 0


def cmd_hold(a):
    return asyncio.run(hold(a))


def cmd_garbage(a):
    s = socket.create_connection(("127.0.0.1", a.port), timeout=a.hold)
    t = time.monotonic()
    try:
        s.sendall(os.urandom(a.bytes))
    except OSError:
        pass
    res = "none"
    s.settimeout(a.hold)
    try:
        while time.monotonic() - t < a.hold:
            s.settimeout(max(0.05, a.hold - (time.monotonic() - t)))
            if not s.recv(4096):
                res = "%.1f" % (time.monotonic() - t)
                break
    except socket.timeout:
        pass
    except OSError:
        res = "%.1f" % (time.monotonic() - t)
    print("closed_after=%s" % res)
    s.close()
    return 0


def client_hello(ver):
    # cipher suites every version knows: AES128-SHA, AES256-SHA, ECDHE ones
    suites = bytes.fromhex("002f0035c013c014c009c00a00ff")
    body = (ver.to_bytes(2, "big") + os.urandom(32) + b"\x00" +
            len(suites).to_bytes(2, "big") + suites + b"\x01\x00")
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    rec_ver = 0x0300 if ver == 0x0300 else 0x0301
    return b"\x16" + rec_ver.to_bytes(2, "big") + len(hs).to_bytes(2, "big") + hs


def cmd_hello(a):
    ver = int(a.version, 0)
    s = socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout)
    s.sendall(client_hello(ver))
    got = b""
    try:
        while len(got) < 7:
            b = s.recv(4096)
            if not b:
                break
            got += b
    except socket.timeout:
        print("timeout")
        return 0
    except OSError:
        pass
    s.close()
    if len(got) >= 7 and got[0] == 0x15:
        print("alert=%d" % got[6])
    elif len(got) >= 6 and got[0] == 0x16 and got[5] == 2:
        print("serverhello=0x%02x%02x" % (got[1], got[2]))
    elif not got:
        print("closed")
    else:
        print("other=%s" % got[:8].hex())
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("send", "slowloris", "hold", "garbage", "hello"):
        q = sub.add_parser(name)
        q.add_argument("port", type=int)
        q.add_argument("--cert")
        q.add_argument("--key")
        q.add_argument("--ca")
        q.add_argument("--timeout", type=float, default=10)
        if name == "send":
            q.add_argument("--pause", type=float, default=0,
                           help="seconds between the DATA writes")
            q.add_argument("data", nargs="+")
        elif name == "hello":
            q.add_argument("--version", default="0x0300")
        else:
            q.add_argument("--conns", type=int, default=1)
            q.add_argument("--hold", type=float, default=10)
            q.add_argument("--interval", type=float, default=1)
            q.add_argument("--tls", action="store_true")
            q.add_argument("--bytes", type=int, default=1024)
            q.add_argument("--fast", type=float, default=0.5,
                           help="hold: closed within S counts as at once")
    a = p.parse_args()
    if a.cmd not in ("send", "hello") and (a.conns > 2000 or a.hold > 600):
        p.error("bounded: --conns <= 2000, --hold <= 600")
    return {"send": cmd_send, "slowloris": cmd_slowloris, "hold": cmd_hold,
            "garbage": cmd_garbage, "hello": cmd_hello}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
