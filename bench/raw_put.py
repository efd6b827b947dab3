"""The floor for bench/tus_bench.py: a WSGI app that takes a PUT and streams its body to a
file in 1 MiB reads, handing every 8 MiB to the disk and fsyncing at the end as Mingcha's
tus server does; no protocol, no database, no checksum. Served by the same gunicorn
command as Mingcha, it is what any upload on this stack can at best reach.

    RAW_PUT_DIR=/some/folder gunicorn -k gthread -w 2 --threads 4 --chdir bench raw_put:app
"""

import os
import re

MIB = 1024 * 1024
WRITE_BACK = 8 * MIB  # as server/evidence/staging.py
NAME = re.compile(r"^/[A-Za-z0-9_-]{1,64}$")


def app(environ, start_response):
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
    if method == "OPTIONS":  # the bench's readiness probe
        start_response("204 No Content", [])
        return [b""]
    if method != "PUT" or not NAME.match(path):
        start_response("405 Method Not Allowed", [("Allow", "PUT, OPTIONS")])
        return [b""]
    left = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    with open(os.path.join(os.environ["RAW_PUT_DIR"], path[1:]), "wb") as f:
        unflushed = 0
        while left > 0:
            block = stream.read(min(MIB, left))
            if not block:
                break
            f.write(block)
            left -= len(block)
            unflushed += len(block)
            if unflushed >= WRITE_BACK:  # start writing it out now, drop it from the cache
                f.flush()
                os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
                unflushed = 0
        f.flush()
        os.fsync(f.fileno())
    start_response("204 No Content" if left == 0 else "400 Bad Request", [])
    return [b""]
