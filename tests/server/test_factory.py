"""The app factory and its configuration."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from server import config, create_app
from tests.conftest import REDIS_URL


def test_config_defaults_to_embedded_sqlite_and_in_process_jobs(tmp_path):
    settings = config.load({"MINGCHA_INSTANCE": str(tmp_path)})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'mingcha.db'}"
    assert settings["REDIS_URL"] is None
    assert settings["MEDIA_ROOT"] == str(tmp_path / "media")


def test_embedded_secret_key_is_generated_once_and_kept(tmp_path):
    first = config.load({"MINGCHA_INSTANCE": str(tmp_path)})["SECRET_KEY"]
    again = config.load({"MINGCHA_INSTANCE": str(tmp_path)})["SECRET_KEY"]
    assert len(first) >= 40 and first == again
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_refuses_to_start_without_secret_key(tmp_path):
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        config.load({"MINGCHA_INSTANCE": str(tmp_path), "MINGCHA_ENV": "production"})


def test_postgres_urls_use_psycopg(tmp_path):
    settings = config.load({"MINGCHA_INSTANCE": str(tmp_path), "SECRET_KEY": "x",
                            "DATABASE_URL": "postgres://u@db/mingcha"})
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/mingcha"


def test_malformed_number_is_refused(tmp_path):
    with pytest.raises(config.ConfigError, match="MAX_BODY_BYTES"):
        config.load({"MINGCHA_INSTANCE": str(tmp_path), "MAX_BODY_BYTES": "lots"})


def test_factory_applies_overrides(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "s", "MEDIA_ROOT": str(tmp_path)})
    assert app.testing and app.config["MEDIA_ROOT"] == str(tmp_path)


def test_every_route_declares_who_may_call_it(app):
    for endpoint, view in app.view_functions.items():
        if endpoint != "static":
            assert hasattr(view, "access"), endpoint


def test_a_web_worker_starts_without_the_bulletin_renderers(tmp_path):
    """WeasyPrint and matplotlib cost each gunicorn worker 1.3 s of CPU and 50 MB at its
    start; they are loaded by the first bulletin a process renders, not before."""
    started = subprocess.run(
        [sys.executable, "-c", "import sys; from server import create_app; create_app(); "
         "print(sorted(m for m in ('weasyprint', 'matplotlib', 'docx') if m in sys.modules))"],
        env=os.environ | {"MINGCHA_INSTANCE": str(tmp_path), "DATABASE_URL": "",
                          "REDIS_URL": ""},
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2])
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "[]"


BUILD_AND_LOOK = """
import json, os, sys, threading
from server import create_app
create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "REDIS_URL": sys.argv[2],
            "SECRET_KEY": "s", "MEDIA_ROOT": sys.argv[3], "UPLOAD_DIR": sys.argv[4]})
held = []
for fd in os.listdir("/proc/self/fd"):
    try:
        held.append(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:  # the listing's own descriptor, closed by now
        pass
print(json.dumps({"threads": threading.active_count(),
                  "held": [h for h in held if h.startswith("socket:") or h.endswith(".db")]}))
"""


def test_building_the_app_opens_no_connection_and_starts_no_thread(databases, backend,
                                                                     tmp_path):
    """gunicorn --preload (the README's command) builds the app once and forks its workers
    from it. A database or Redis connection made before the fork would be one socket
    shared by every worker, their queries interleaved on it; a thread would not survive
    the fork at all."""
    urls, _instance = databases
    built = subprocess.run(
        [sys.executable, "-c", BUILD_AND_LOOK, urls[backend], REDIS_URL,
         str(tmp_path / "media"), str(tmp_path / "uploads")],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2])
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout) == {"threads": 1, "held": []}
