"""The fault soak in short (`make soak` is the long one): phones over a lossy network
against gunicorn on PostgreSQL with a real worker, while the web server and the worker
are killed -9 and Redis stops; at the end nothing is lost, nothing doubled, all ready."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_nothing_is_lost_when_servers_die_under_the_phones():
    done = subprocess.run(
        [sys.executable, "bench/soak.py", "--phones", "4", "--minutes", "1.5", "--checks", "2",
         "--web-kills", "1", "--worker-kills", "1", "--redis-seconds", "5"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "lost 0, duplicated 0, not ready 0, files not stored as taken 0" in done.stdout
    assert "kills: web (gunicorn master + workers, SIGKILL) 1, worker (rq worker + horse, " \
           "SIGKILL) 1, redis stopped 1x" in done.stdout
