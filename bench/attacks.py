#!/usr/bin/env python3
"""Attacks for bench/memory.sh, against the webhook on localhost (bounded in count and time; loopback only).

usage: attacks.py PORT slow-readers REVIEW.json   16 connections send a review and never read the answer (12 s)
       attacks.py PORT handshakes                 new TLS connections from 8 threads for 5 s
       attacks.py PORT idle N                     N connections, TLS done, no request, held 5 s
       attacks.py PORT pipelined N REVIEW.json    N requests written back to back on one connection, then read
Prints one line of what happened.
"""
import socket, ssl, sys, threading, time

port, attack = int(sys.argv[1]), sys.argv[2]
context = ssl._create_unverified_context()


def connect():
    return context.wrap_socket(socket.create_connection(("localhost", port), timeout=30), server_hostname="localhost")


def request(body):
    return (b"POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % len(body)) + body


if attack == "slow-readers":
    body = open(sys.argv[3], "rb").read()
    sockets = []
    for _ in range(16):
        s = connect()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(request(body))
        sockets.append(s)
    time.sleep(12)  # past the review deadline (10 s)
    for s in sockets:
        s.close()
    print("16 connections sent a review and read nothing for 12 s")
elif attack == "handshakes":
    count, until = [0], time.time() + 5

    def flood():
        while time.time() < until:
            connect().close()
            count[0] += 1
    threads = [threading.Thread(target=flood) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    print("%d TLS handshakes in 5 s" % count[0])
elif attack == "idle":
    n = int(sys.argv[3])
    sockets = [connect() for _ in range(n)]
    time.sleep(5)
    for s in sockets:
        s.close()
    print("%d idle connections held 5 s" % n)
elif attack == "pipelined":
    n, body = int(sys.argv[3]), open(sys.argv[4], "rb").read()
    s = connect()
    s.sendall(request(body) * n)
    data, answers = b"", 0
    while answers < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
        answers = data.count(b"HTTP/1.1 200")
    s.close()
    print("%d pipelined requests, %d answered 200" % (n, answers))
