"""`manage.py serve` really serves (the second command of `make demo`)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_health_checks(tmp_path):
    port = _free_port()
    env = dict(os.environ, MINGCHA_INSTANCE=str(tmp_path), REDIS_URL="")
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "manage.py", "init-db"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    server = subprocess.Popen([sys.executable, "manage.py", "serve", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        answer = None
        for _ in range(100):
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert answer is not None and answer.status_code == 200
        assert answer.json()["database"] == "ok"
    finally:
        server.terminate()
        server.wait(timeout=10)
