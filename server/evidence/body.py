"""An upload's bytes straight from gunicorn's socket.

gunicorn hands a request body over through buffers of its own: each MiB of a PATCH was
received into a new bytes object, then copied into and out of two ``BytesIO`` four more
times. Received straight into the caller's buffer, a GiB costs 0.11-0.13 s of CPU instead
of 0.23-0.75 s (a socket pair on this project's 2-core VM, 2026-12-04). This reader does
that for a body of known length, after what gunicorn already holds; for anything else
(another server, a chunked body, a gunicorn that changed) ``socket_reader`` answers None
and the body is read as any WSGI stream.
"""

import io


def socket_reader(stream):
    """``read(n)`` for ``stream``, a gunicorn request body of known length, receiving from
    its socket without gunicorn's copies; or None."""
    if type(stream).__module__ != "gunicorn.http.body":
        return None
    reader = getattr(stream, "reader", None)
    unreader = getattr(reader, "unreader", None)
    if (type(reader).__name__ != "LengthReader" or not hasattr(unreader, "sock")
            or not isinstance(getattr(stream, "buf", None), io.BytesIO)
            or not isinstance(getattr(unreader, "buf", None), io.BytesIO)
            or not isinstance(getattr(reader, "length", None), int)):
        return None
    return _SocketBody(stream, reader, unreader).read


class _SocketBody:
    """Up to ``n`` bytes a call: first those gunicorn's body holds, then those its socket
    reader holds (never past the body: the next request may follow it), then received
    from the socket into a buffer of their own. ``reader.length`` counts down as gunicorn
    counts it, so after the request gunicorn finds the body read and the connection where
    the next request starts."""

    def __init__(self, body, reader, unreader):
        self.body, self.reader, self.unreader = body, reader, unreader

    def read(self, n: int) -> bytes | bytearray:
        held = self._take(self.body, n)  # already counted off reader.length
        if held:
            return held
        n = min(n, self.reader.length)
        if n <= 0:
            return b""
        held = self._take(self.unreader, n)
        if not held:
            held = self._receive(n)
        self.reader.length -= len(held)
        return held

    @staticmethod
    def _take(holder, n: int) -> bytes:
        """Up to ``n`` of the bytes in ``holder.buf``; the rest stay there."""
        data = holder.buf.getvalue()
        if not data:
            return b""
        holder.buf = io.BytesIO()
        holder.buf.write(data[n:])
        return data[:n]

    def _receive(self, n: int) -> bytearray:
        """``n`` bytes from the socket, fewer when the client stopped sending."""
        buf, got = bytearray(n), 0
        try:
            while got < n:
                with memoryview(buf)[got:] as rest:
                    count = self.unreader.sock.recv_into(rest)
                if not count:
                    break
                got += count
        except OSError:
            self.body.failed = True  # as gunicorn marks it: the connection is not reused
            raise
        del buf[got:]
        return buf
