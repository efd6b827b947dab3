"""Serve the app on a loopback port in a thread, for the phone simulator and the tests."""

import threading
from contextlib import contextmanager

from werkzeug.serving import make_server


@contextmanager
def serving(app):
    """Yield the base URL of ``app`` served on a free loopback port until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # Shutdown waits for the serving loop's next poll: poll often, or stopping costs
    # half a second (socketserver's default) every time.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
