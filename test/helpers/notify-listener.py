"""Listens on a unix datagram socket the way systemd does for sd_notify and
prints each message as one JSON line (Node cannot bind AF_UNIX datagram
sockets, issue 8). Closing the file descriptors that arrive answers
systemd-notify's BARRIER=1, which it sends after each message and waits on."""
import json
import os
import socket
import sys

path = sys.argv[1]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
print(json.dumps({"listening": path}), flush=True)
while True:
    data, ancdata, _flags, _addr = sock.recvmsg(65536, socket.CMSG_SPACE(16 * 4))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            for i in range(0, len(payload) - len(payload) % 4, 4):
                os.close(int.from_bytes(payload[i:i + 4], sys.byteorder))
    print(json.dumps({"message": data.decode("utf-8", "replace")}), flush=True)
