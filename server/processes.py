"""Processes of this host: whether one that held something (an upload's lease, an rq
worker's job) has ended."""

import os


def ended(pid: int) -> bool:
    """Whether the process is gone from this host; a killed child that its parent has not
    yet reaped (a zombie) counts as gone. Someone else's live process is not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return False
