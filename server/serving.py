"""Serve the app on a loopback port in a thread, for the phone simulator and the tests."""

import threading
import time
from contextlib import contextmanager

from werkzeug.serving import make_server


class InFlight:
    """Counts the requests being answered, so that stopping can wait for them: a browser's
    last request must not still hold its transaction when the caller moves on (a test then
    empties the tables)."""

    def __init__(self, app):
        self.app, self.count, self.lock = app, 0, threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.count += 1
        try:
            return self._answered(self.app(environ, start_response))
        except BaseException:
            self._done()
            raise

    def _answered(self, body):
        """The response's body, counted done once it is sent or closed. Not only on
        close: after the body, Werkzeug reads what is left of the request, and a browser
        that hangs up then makes it skip close (a stop then waited its full 10 s)."""
        try:
            yield from body
        finally:
            try:
                if hasattr(body, "close"):
                    body.close()
            finally:
                self._done()

    def _done(self):
        with self.lock:
            self.count -= 1

    def wait(self, seconds: float):
        deadline = time.monotonic() + seconds
        while self.count > 0 and time.monotonic() < deadline:
            time.sleep(0.01)


def start(wsgi_app) -> tuple:
    """Serve ``wsgi_app`` on a free loopback port from a thread: (server, thread)."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    # Shutdown waits for the serving loop's next poll: poll often, or stopping costs
    # half a second (socketserver's default) every time.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    return server, thread


@contextmanager
def serving(app):
    """Yield the base URL of ``app`` served on a free loopback port until the block ends;
    then stop taking requests and let those under way finish (at most 10 s)."""
    answering = InFlight(app)
    server, thread = start(answering)
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        answering.wait(10)
        server.server_close()
