#!/usr/bin/env python3
"""A REST client that asks POST /api/v1/req for a large JSONL answer and stops reading after the first
64 KiB (its receive buffer is small), so the server is left mid-body. Then, as told by the test:
  leave  -- closes the connection mid-body
  drain  -- reads on until the server ends the connection, and says whether the body was complete
It writes 'stalled' to READY_FILE once stalled, and waits for GO_FILE to hold the next step."""
import os, socket, sys, time

port, body, ready_file, go_file = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
s.connect(("127.0.0.1", port))
s.sendall(b"POST /api/v1/req HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: %d\r\n\r\n" % len(body) + body)
got = b""
while len(got) < 64 * 1024:
    chunk = s.recv(65536)
    if not chunk:
        sys.exit("the server closed the connection before 64 KiB")
    got += chunk
if not got.startswith(b"HTTP/1.1 200"):
    sys.exit("unexpected answer: %r" % got[:200])
with open(ready_file + ".tmp", "w") as f:
    f.write("stalled")
os.rename(ready_file + ".tmp", ready_file)
for _ in range(1200):  # the test tells what to do next (at most 120 s)
    if os.path.exists(go_file):
        break
    time.sleep(0.1)
step = open(go_file).read().strip()
if step == "leave":
    s.close()
    print("left")
    sys.exit(0)
s.settimeout(60)
while True:
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    got += chunk
# A complete chunked body ends with the last chunk: "0\r\n\r\n".
print("complete" if got.endswith(b"\r\n0\r\n\r\n") else "cut", len(got))
