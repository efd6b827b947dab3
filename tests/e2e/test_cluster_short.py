"""The two-host load benchmark in short (`bench/load_bench.py --hosts 2` is the long one):
a few phones against two web hosts and two worker hosts behind nginx, sharing only
PostgreSQL, Redis and S3 (moto); web host A and worker host C are killed -9 in the
middle and started again. Nothing the phones sent is lost: every push applied, every
photo ready, every original in the store at its size. Its timing targets belong to the
benchmark, not to this test."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_hosts_killed_under_the_phones_lose_nothing():
    done = subprocess.run(
        [sys.executable, "bench/load_bench.py", "--hosts", "2", "--phones", "4",
         "--photo-mb", "1", "--processes", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    out = done.stdout
    assert "nothing lost" in out, out[-4000:] + done.stderr[-4000:]
    assert re.search(r"SIGKILL to web host A \(\d+ processes.*and worker host C", out), out
    assert "web host A answers again; worker host C started again" in out, out
    assert ("lost: photos not ready 0 (of 12: {'ready': 12}), pushes not applied 0 (of 16), "
            "originals missing from the store or of another size 0") in out, out
    assert "failed steps 0, photos not ready 0" in out, out
    rows = {m[1]: int(m[2]) for m in re.finditer(r"^(\S+)\s+(\d+)\s+[\d.]+s", out, re.M)}
    assert rows == {"sign-in": 4, "pull": 4, "push": 16, "upload": 12, "ready": 12}, out
