"""The load benchmark in short (`bench/load_bench.py` is the long one, fifty phones): a
few phones against the production set-up the benchmark starts (gunicorn, the worker as
it starts by default, PostgreSQL, Redis) sign in, pull, push and upload photos at once;
every request answers, every photo becomes ready. Its timing targets belong to the
benchmark, not to this test."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_phones_syncing_at_once_lose_nothing_and_every_photo_becomes_ready():
    done = subprocess.run(
        [sys.executable, "bench/load_bench.py", "--phones", "4", "--photo-mb", "1",
         "--processes", "2"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    out = done.stdout
    assert "all targets met" in out or "targets missed" in out, out[-3000:] + done.stderr[-3000:]
    assert "errors: 0 (retried requests 0, failed steps 0, photos not ready 0)" in out, out
    rows = {m[1]: int(m[2]) for m in re.finditer(r"^(\S+)\s+(\d+)\s+[\d.]+s", out, re.M)}
    assert rows == {"sign-in": 4, "pull": 4, "push": 16, "upload": 12, "ready": 12}, out
    assert "drain: 12 media jobs" in out, out
    shares = re.search(r"^cores used by each tier, \d+ in all: while phones upload (.*)$", out,
                       re.M)
    assert shares and "after the last upload" in shares[1], out
