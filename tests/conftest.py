"""Fixtures: the app on the embedded SQLite default and on a fresh PostgreSQL database.

Every test that takes ``app`` (or ``client``, ``make``…) runs once per backend. Migrations
build each database once per run; after every test the tables are emptied.
"""

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import psycopg
import pytest
import sqlalchemy as sa
from botocore.config import Config
from flask import globals as flask_globals
from flask.testing import FlaskClient

from server import create_app
from server.extensions import db

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# Each pytest-xdist worker (gw0, gw1…) has a Redis database of its own, counting down
# from 15: tests empty theirs and look for the workers registered in it.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:])
REDIS_URL = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - _WORKER}")
PASSWORD = "correct-horse-42"
BACKENDS = ["sqlite", "postgresql"]


def _with_database(url: str, name: str) -> str:
    base, _sep, _db = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    """One migrated database per backend for the whole run; the PostgreSQL one is new."""
    name = f"mingcha_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}",
            "postgresql": _with_database(ADMIN_URL, name).replace(
                "postgresql://", "postgresql+psycopg://", 1)}
    instance = tmp_path_factory.mktemp("instance")
    for url in urls.values():
        app = create_app(_config(url, instance))
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            db.engine.dispose()
    yield urls, instance
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _config(url: str, instance) -> dict:
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret",
            "REDIS_URL": None, "MEDIA_ROOT": str(instance / "media"),
            "INSTANCE_DIR": str(instance),
            # Real argon2id, cheaper than production so the suite stays quick.
            "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024}


def _empty_tables():
    """DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE makes every table anew
    on disk (0.15-0.2 s per PostgreSQL test on a slow VM, against a few ms)."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    if db.engine.dialect.name == "postgresql":  # ids count from 1 again, as on a new database
        db.session.execute(sa.text("SELECT setval(oid, 1, false) FROM pg_class "
                                   "WHERE relkind = 'S'"))
    db.session.commit()


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def app(databases, backend, tmp_path):
    urls, instance = databases
    app = create_app(_config(urls[backend], instance) | {
        "MEDIA_ROOT": str(tmp_path / "media"), "UPLOAD_DIR": str(tmp_path / "uploads")})
    with app.app_context():
        from server.registry.services import seed_categories

        seed_categories()
        db.session.commit()
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


class IsolatedClient(FlaskClient):
    """Each request gets its own app context, `g` and session, as on a real server.

    The test itself holds an app context (for ``db.session``); Flask would otherwise
    reuse it for the request and share ``g`` and the session between the two.
    """

    def open(self, *args, **kwargs):
        db.session.commit()  # end the test's transaction: SQLite has one writer at a time
        kwargs.setdefault("buffered", True)  # streamed bodies are read inside the request
        token = flask_globals._cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            flask_globals._cv_app.reset(token)
            db.session.expire_all()  # see what the request committed


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(app):
    """Builders for records: ``make.user("supervisor")``, ``make.check(user, site)``…"""
    return Builders()


class Builders:
    """Small factories returning committed records with plausible defaults."""

    def __init__(self):
        self.n = 0

    def _next(self) -> int:
        self.n += 1
        return self.n

    def unit(self, code=None, name=None):
        from server.models import Unit

        n = self._next()
        unit = Unit(code=code or f"U{n:03}", name=name or f"第{n}科", leader_name=f"领导{n}")
        db.session.add(unit)
        db.session.commit()
        return unit

    def site(self, unit=None, **fields):
        from server.models import Site

        n = self._next()
        unit = unit or self.unit()
        values = {"code": f"S{n:03}", "name": f"工地{n}", "kind": "construction_site",
                  "unit_id": unit.id, "lat": 34.26, "lon": 117.19, "radius_m": 300} | fields
        site = Site(**values)
        db.session.add(site)
        db.session.commit()
        return site

    def user(self, role="inspector", unit=None, username=None, password=PASSWORD):
        from server.registry.services import create_user

        if role == "unit" and unit is None:
            unit = self.unit()
        user = create_user(username or f"{role}{self._next()}", role, password,
                           unit_code=unit.code if unit else None)
        db.session.commit()
        return user

    def category(self, code="absent"):
        from server.models import Category

        return db.session.scalar(sa.select(Category).where(Category.code == code))

    def plan(self, sites, assignees, mode="covert", by=None):
        from server.models import Plan

        start = datetime.now(UTC)
        plan = Plan(title="十一月暗访", mode=mode, window_start=start,
                    window_end=start + timedelta(days=7), sites=list(sites),
                    assignees=list(assignees), created_by=by.id if by else None)
        db.session.add(plan)
        db.session.commit()
        return plan

    def check(self, author, site, mode="covert", plan=None):
        from server.models import Check

        check = Check(site_id=site.id, mode=mode, started_at=datetime.now(UTC),
                      notes="上下班签到检查", created_by=author.id,
                      plan_id=plan.id if plan else None)
        db.session.add(check)
        db.session.commit()
        return check

    def finding(self, check, unit=None, published=False, severity="general"):
        from server.models import Finding

        finding = Finding(check_id=check.id, category_id=self.category().id, severity=severity,
                          description="上班时间离岗，未履行外出报批手续",
                          unit_id=(unit or check.site.unit).id, created_by=check.created_by,
                          published_at=datetime.now(UTC) if published else None)
        db.session.add(finding)
        db.session.commit()
        return finding

    def evidence(self, check, finding=None, kind="photo"):
        from server.models import Evidence

        evidence = Evidence(check_id=check.id, finding_id=finding.id if finding else None,
                            kind=kind, sha256="0" * 64, size=1000, filename="IMG_0001.jpg",
                            created_by=check.created_by)
        db.session.add(evidence)
        db.session.commit()
        return evidence

    def case(self, finding, status="notified"):
        from server.models import Case

        case = Case(finding_id=finding.id, unit_id=finding.unit_id, leader_name="包挂领导",
                    deadline=(datetime.now(UTC) + timedelta(days=7)).date(), status=status)
        db.session.add(case)
        db.session.commit()
        return case

    def rectification(self, case, author):
        from server.models import Rectification

        rect = Rectification(case_id=case.id, report="已整改", created_by=author.id,
                             submitted_at=datetime.now(UTC))
        db.session.add(rect)
        db.session.commit()
        return rect


def login(client, username, password=PASSWORD, device_name="测试手机"):
    """Sign a phone in; return the response."""
    return client.post("/api/v1/auth/device", json={
        "username": username, "password": password, "device_name": device_name})


@pytest.fixture
def token_for(client):
    """``token_for(user)`` signs a phone in as ``user`` and returns the bearer header."""
    def sign_in(user):
        response = login(client, user.username)
        assert response.status_code == 201, response.get_data(as_text=True)
        return {"Authorization": f"Bearer {response.json['token']}"}

    return sign_in


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on a free loopback port; yields its base URL."""
    from server.serving import serving

    with serving(app) as url:
        yield url


# moto runs in its own process: like a real object store, and its memory stays out of
# the tracemalloc figures below.
MOTO = """
import logging
import sys
from moto.server import ThreadedMotoServer
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # until the test run closes our stdin, or dies
server.stop()
"""


@pytest.fixture(scope="session")
def s3_endpoint():
    with subprocess.Popen(
        [sys.executable, "-c", MOTO], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as proc:
        port = int(proc.stdout.readline())
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.stdin.close()
            proc.wait(timeout=30)


@pytest.fixture(scope="session")
def s3_client(s3_endpoint):
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(s3={"addressing_style": "path"}),
    )


@pytest.fixture
def bucket(s3_client):
    name = f"evidence-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name
