"""The offline sync protocol as a library: message schemas, merge-free record fields,
cursors, and the reference client (outbox, push, pull) with its fault layer and the
phone simulator.

Pure Python: never imports Flask, the server, or a database session.
"""
