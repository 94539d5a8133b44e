"""pipeline.py PORT PKI ROUNDS get|post: per round, one mTLS connection
to 127.0.0.1:PORT and one TLS record carrying two pipelined requests: a
GET, then (the last, with Connection: close) a GET or a POST of 4096
random bytes to /upload. The second is processed as soon as the first's
response is out, before the proxy's loop reads a FIN that the backend sent
with that response (backend --idle-close 0): it meets the pooled
connection the backend just closed. A round passes when both answers are
200 and, for the POST, the backend's digest of the body is right. Prints
"rounds=N fails=M"; exits 1 if a round failed."""
import hashlib
import os
import socket
import ssl
import sys

port, pki, rounds, second = (int(sys.argv[1]), sys.argv[2],
                             int(sys.argv[3]), sys.argv[4])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.load_verify_locations(pki + "/root.crt")
ctx.load_cert_chain(pki + "/client.crt", pki + "/client.key")


def read_response(s, buf):
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise EOFError("EOF in a response head after %r" % buf[:80])
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    n = 0
    for line in lines[1:]:
        k, v = line.split(b":", 1)
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(rest) < n:
        d = s.recv(65536)
        if not d:
            raise EOFError("EOF in a body")
        rest += d
    return int(lines[0].split()[1]), rest[:n], rest[n:]


fails = 0
for r in range(rounds):
    first = b"GET /?pipe%d HTTP/1.1\r\nHost: localhost\r\n\r\n" % r
    want = None
    if second == "post":
        body = os.urandom(4096)
        want = "sha256=%s bytes=4096\n" % hashlib.sha256(body).hexdigest()
        req = (b"POST /upload?pipe%d HTTP/1.1\r\nHost: localhost\r\n"
               b"Content-Length: 4096\r\nConnection: close\r\n\r\n" % r +
               body)
    else:
        req = (b"GET /?second%d HTTP/1.1\r\nHost: localhost\r\n"
               b"Connection: close\r\n\r\n" % r)
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port),
                                                 timeout=30),
                        server_hostname="localhost")
    s.sendall(first + req)
    st1, _, rest = read_response(s, b"")
    st2, b2, rest = read_response(s, rest)
    s.close()
    if st1 != 200 or st2 != 200 or (
            want is not None and b2.decode(errors="replace") != want):
        fails += 1
        print("round %d: GET %d, %s %d %r" % (r, st1, second.upper(), st2,
                                             b2[:60]))
print("rounds=%d fails=%d" % (rounds, fails))
sys.exit(1 if fails else 0)
