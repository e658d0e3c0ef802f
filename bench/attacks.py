#!/usr/bin/env python3
"""Attacks for bench/memory.sh, against the webhook on localhost (bounded in count and time; loopback only).

usage: attacks.py PORT slow-readers REVIEW.json   16 connections send a review and never read the answer (12 s)
       attacks.py PORT handshakes                 new TLS connections from 8 threads for 5 s
       attacks.py PORT idle N                     N connections, TLS done, no request, held 5 s
       attacks.py PORT pipelined N REVIEW.json    N requests written back to back on one connection, then read
       attacks.py PORT h2-never-read REVIEW.json  from 127.0.0.2, HTTP/2 streams with a zero window (no answer can
                                                  ever be sent), 4 connections of 16 streams, refilled as the
                                                  webhook cuts them, for 10 s (needs python3-h2)
       attacks.py PORT slow-small N ADDRESSES     from each of ADDRESSES (127.0.0.2,127.0.0.3,...), N connections
                                                  declaring 60,000 bytes and sending 100 bytes a second, reconnecting
                                                  when cut, for 10 s
Prints one line of what happened. Both of the last two come from other loopback addresses than the normal reviews
of bench/memory.sh (127.0.0.1): other clients, which the webhook's memory budget shares fairly with.
"""
import socket, ssl, sys, threading, time

port, attack = int(sys.argv[1]), sys.argv[2]
context = ssl._create_unverified_context()


def connect(source="127.0.0.1", alpn=None):
    raw = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0))
    tls = ssl._create_unverified_context()
    if alpn:
        tls.set_alpn_protocols([alpn])
    return tls.wrap_socket(raw, server_hostname="localhost")


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
elif attack == "h2-never-read":
    import h2.config, h2.connection, h2.events, h2.settings
    body = open(sys.argv[3], "rb").read()
    until, started, cut = time.time() + 10, [0], [0]

    def never_read():
        s = connect("127.0.0.2", "h2")
        s.settimeout(0.2)
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})  # no answer can ever be sent
        pending = {}  # stream -> bytes of its body still to send

        def open_stream():
            stream = conn.get_next_available_stream_id()
            conn.send_headers(stream, [(":method", "POST"), (":scheme", "https"), (":authority", "localhost"),
                                       (":path", "/mutate"), ("content-type", "application/json"),
                                       ("content-length", str(len(body)))])
            pending[stream] = body
            started[0] += 1
        while time.time() < until:
            while conn.open_outbound_streams < 16:  # the webhook's limit per connection
                open_stream()
            for stream, rest in list(pending.items()):
                n = min(len(rest), conn.local_flow_control_window(stream), conn.max_outbound_frame_size)
                if n > 0:
                    conn.send_data(stream, rest[:n], end_stream=(n == len(rest)))
                    rest = rest[n:]
                    if rest:
                        pending[stream] = rest
                    else:
                        del pending[stream]
            s.sendall(conn.data_to_send())
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            if not data:
                break
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.StreamReset):
                    cut[0] += 1
                    pending.pop(event.stream_id, None)
            s.sendall(conn.data_to_send())
        s.close()
    threads = [threading.Thread(target=never_read) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    print("127.0.0.2: %d HTTP/2 streams with a zero window in 10 s, %d cut by the webhook" % (started[0], cut[0]))
elif attack == "slow-small":
    n, addresses = int(sys.argv[3]), sys.argv[4].split(",")
    until, connections, cut = time.time() + 10, [0], [0]

    def crawl(source):
        while time.time() < until:
            try:
                s = connect(source)
                connections[0] += 1
                s.sendall(b"POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 60000\r\n\r\n")
                while time.time() < until:
                    s.sendall(b" " * 10)  # 100 bytes a second
                    time.sleep(0.1)
                s.close()
            except OSError:
                cut[0] += 1
    threads = [threading.Thread(target=crawl, args=(a,)) for a in addresses for _ in range(n)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    print("%s: %d slow uploads of 60,000 bytes at 100 B/s in 10 s, %d cut by the webhook"
          % (",".join(addresses), connections[0], cut[0]))
