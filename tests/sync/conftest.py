"""Phones for the sync tests: the reference client on its own file, against ``live_server``.

Model objects are not handed to the phones: the server answers from other threads, so
the fixtures read plain values (usernames, ids) and end the test's transaction first.
"""

import json
from types import SimpleNamespace

import httpx
import pytest

from server.extensions import db
from sync.backoff import Backoff
from sync.client import PUSH, Client
from tests.conftest import PASSWORD


class RecordingTransport(httpx.BaseTransport):
    """The real transport, noting every request that goes out to the server, in order."""

    def __init__(self, inner: httpx.BaseTransport | None = None):
        self.inner = inner or httpx.HTTPTransport()
        self.sent = []  # (method, path, body)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path, request.read()))
        return self.inner.handle_request(request)

    @property
    def pushes(self) -> list[list[str]]:
        """The mutation ids of each push that went out."""
        return [[m["id"] for m in json.loads(body)["mutations"]]
                for _method, path, body in self.sent if path == PUSH]

    def close(self):
        self.inner.close()


class Unplugged(httpx.BaseTransport):
    """No network at all: a phone that must not send anything fails loudly if it tries."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"the phone sent {request.method} {request.url.path} offline")


@pytest.fixture
def offline_phone(tmp_path):
    """``offline_phone("a")`` opens the phone file ``a.db``, never signed in, no network."""
    opened = []

    def open_(name="a") -> Client:
        client = Client("http://mingcha.invalid", tmp_path / f"{name}.db",
                        transport=Unplugged(), backoff=Backoff(max_attempts=1))
        opened.append(client)
        return client

    yield open_
    for client in opened:
        client.close()


@pytest.fixture
def field(make):
    """An inspector's username, a site and a category to use, as plain values."""
    site = make.site(name="纺织东路工地")
    values = SimpleNamespace(username=make.user("inspector").username, site_id=str(site.id),
                             unit_id=str(site.unit_id), category_id=str(make.category().id))
    db.session.commit()  # end the test's read: SQLite has one writer at a time
    return values


@pytest.fixture
def open_phone(live_server, tmp_path):
    """``open_phone(user, "a", transport)`` opens the phone file ``a.db``, signed in as
    ``user`` (a username or a User) unless the file already holds a token."""
    opened = []

    def open_(user, name="a", transport=None) -> Client:
        username = getattr(user, "username", user)
        db.session.commit()
        client = Client(live_server, tmp_path / f"{name}.db", transport=transport,
                        backoff=Backoff(base=0.001, cap=0.01, max_attempts=5))
        opened.append(client)
        if not client.store.get("token"):
            client.login(username, PASSWORD, "测试手机")
        return client

    yield open_
    for client in opened:
        client.close()
