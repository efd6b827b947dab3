"""The offline sync protocol as a library: message schemas and, later, the reference client.

Pure Python: never imports Flask, the server, or a database session.
"""
