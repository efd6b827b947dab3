"""The desk benchmark in short (bench/desk_bench.py is the long one, issue 10 point 10): it
seeds PostgreSQL, fetches the review queue and the case list as a reviewer, replays their
SQL raw and prints a ratio for each page. Only that it runs: timing is not tested here."""

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ADMIN_URL

ROOT = Path(__file__).resolve().parents[2]
FIGURES = re.compile(r"^GET (/review|/cases) +(\d+) statements +(\d+) rows .* ratio +\d+\.\d\d ",
                     re.MULTILINE)


def test_desk_bench_prints_a_ratio_for_both_pages():
    done = subprocess.run(
        [sys.executable, "bench/desk_bench.py", "--evidence", "500", "--cases", "50",
         "--rounds", "5", "--admin-url", ADMIN_URL],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "500 evidence" in done.stdout and "50 cases" in done.stdout
    pages = {path: (int(statements), int(rows))
             for path, statements, rows in FIGURES.findall(done.stdout)}
    assert set(pages) == {"/review", "/cases"}, done.stdout
    assert pages["/review"][1] == 60  # a full page of the queue was shown and measured
    assert pages["/cases"][1] == 50
