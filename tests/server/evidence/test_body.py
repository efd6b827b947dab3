"""An upload's bytes read straight from gunicorn's socket: every byte once and in order,
and the next request on the connection left where gunicorn looks for it."""

import os
import random
import socket
import threading

import pytest
from gunicorn.config import Config
from gunicorn.http.parser import RequestParser

from server.evidence.body import socket_reader

BODY = os.urandom(3 * 1024 * 1024 + 17)
NEXT = b"HEAD /api/v1/uploads/next HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\n\r\n"


def _pair():
    """(the server's end, the phone's end); a read that waits for bytes that never come
    fails the test after 10 s instead of hanging it."""
    server, phone = socket.socketpair()
    server.settimeout(10)
    return server, phone


def _patch(body: bytes) -> bytes:
    return (b"PATCH /api/v1/uploads/one HTTP/1.1\r\nHost: x\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n\r\n")


def _send(sock, data: bytes, pieces: list[int]):
    """``data`` in pieces of these sizes, then the rest, as a phone's network delivers."""
    at = 0
    for size in pieces:
        sock.sendall(data[at:at + size])
        at += size
    sock.sendall(data[at:])


@pytest.mark.parametrize(("size", "pieces", "reads"), [
    # headers, the whole body and the next request in one piece, read in large steps
    (len(BODY), [], [1024 * 1024, 5 * 1024 * 1024]),
    # headers and a few bytes of body together, then the rest, in steps of every size
    (len(BODY), [70, 10, 65536], [1, 4096, 1024 * 1024]),
    # headers alone, then a byte
    (len(BODY), [len(_patch(BODY)), 1, 1024 * 1024 - 1], [4096, 1024 * 1024]),
    # a small body that arrived with its headers and the next request: read 7 at a time
    (100, [], [7]),
])
def test_the_body_arrives_whole_and_the_next_request_after_it(size, pieces, reads):
    body = BODY[:size]
    server, phone = _pair()
    sending = threading.Thread(target=_send, args=(phone, _patch(body) + body + NEXT, pieces))
    sending.start()
    try:
        requests = RequestParser(Config(), server, ("127.0.0.1", 1))
        patch = next(requests)
        read = socket_reader(patch.body)
        assert read is not None
        rng, got = random.Random(len(pieces)), bytearray()
        while chunk := read(rng.choice(reads)):
            got += chunk
        assert bytes(got) == body
        following = next(requests)  # gunicorn finds the body read, and the next request
        assert (following.method, following.path) == ("HEAD", "/api/v1/uploads/next")
    finally:
        sending.join()
        server.close()
        phone.close()


def test_a_body_cut_short_gives_what_arrived_then_nothing():
    server, phone = _pair()
    phone.sendall(_patch(BODY) + BODY[:1000])
    phone.close()  # the phone's connection dropped
    try:
        read = socket_reader(next(RequestParser(Config(), server, ("127.0.0.1", 1))).body)
        got = bytearray()
        while chunk := read(1024 * 1024):
            got += chunk
        assert bytes(got) == BODY[:1000]
    finally:
        server.close()


def test_other_bodies_are_read_as_any_stream():
    server, phone = _pair()
    phone.sendall(b"PATCH /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"3\r\nabc\r\n0\r\n\r\n")
    try:
        chunked = next(RequestParser(Config(), server, ("127.0.0.1", 1)))
        assert socket_reader(chunked.body) is None
        with open(os.devnull, "rb") as other:  # Werkzeug's stream, say
            assert socket_reader(other) is None
    finally:
        server.close()
        phone.close()
