"""The in-thread server of the tests and the phone simulator counts the requests it is
answering, so that stopping waits for them and for nothing else."""

import socket
import struct
import time

import pytest

from server.serving import InFlight, start


def _hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


def _count_when_settled(answering: InFlight) -> int:
    for _ in range(300):
        if answering.count == 0:
            break
        time.sleep(0.01)
    return answering.count


def test_a_browser_that_hangs_up_after_its_answer_is_not_waited_for():
    """After the body Werkzeug reads what else the client sent; a client that then resets
    the connection (a browser tab closed) makes it skip the body's close. The request was
    answered all the same, and must not count as under way (a stop then waited 10 s)."""
    answering = InFlight(_hello)
    server, _thread = start(answering)
    try:
        with socket.create_connection(("127.0.0.1", server.server_port)) as browser:
            # The request, then the start of another that the server reads after answering.
            browser.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\n")
            answer = b""
            while b"hello" not in answer:
                answer += browser.recv(1024)
            browser.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # closed with linger 0: a reset, as a closed tab gives
        assert answer.startswith(b"HTTP/1.1 200")
        assert _count_when_settled(answering) == 0
    finally:
        server.shutdown()
        server.server_close()


def test_a_body_read_to_its_end_and_closed_counts_once():
    closed = []

    class Body(list):
        def close(self):
            closed.append(True)

    answering = InFlight(lambda environ, start_response: Body([b"a", b"b"]))
    body = answering({}, lambda *args: None)
    assert answering.count == 1
    assert list(body) == [b"a", b"b"]
    assert answering.count == 0 and closed == [True]  # sent: done, and the app's close ran
    body.close()  # the server's own close afterwards changes nothing
    assert answering.count == 0 and closed == [True]


def test_an_app_that_fails_before_answering_is_not_counted():
    def broken(environ, start_response):
        raise RuntimeError("boom")

    answering = InFlight(broken)
    with pytest.raises(RuntimeError):
        answering({}, lambda *args: None)
    assert answering.count == 0
