"""A phone for sync tests: signs in and pushes and pulls through the test client."""

import json
import uuid
from datetime import UTC, datetime

import pytest

from tests.conftest import login


class Phone:
    def __init__(self, client, user):
        answer = login(client, user.username).json
        self.client, self.user = client, user
        self.device_id = answer["device_id"]
        self.headers = {"Authorization": f"Bearer {answer['token']}"}
        self.cursor = None

    def push(self, *mutations, status=200):
        # Encoded as a phone's JSON library would (NaN, integers of any size), not as the
        # server writes its answers.
        body = json.dumps({"device_id": self.device_id, "mutations": list(mutations)})
        response = self.client.post("/api/v1/sync/push", headers=self.headers, data=body,
                                    content_type="application/json")
        assert response.status_code == status, response.get_data(as_text=True)
        return response.json

    def push_one(self, mutation) -> dict:
        return self.push(mutation)["results"][0]

    def pull_page(self, cursor=None, limit=500):
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        return self.client.get("/api/v1/sync/pull", headers=self.headers, query_string=params)

    def pull(self, limit=500) -> list[dict]:
        """Everything new since the last pull, following ``more``."""
        changes = []
        while True:
            response = self.pull_page(self.cursor, limit)
            assert response.status_code == 200, response.get_data(as_text=True)
            body = response.json
            changes += body["changes"]
            self.cursor = body["cursor"]
            if not body["more"]:
                return changes

    def state(self) -> dict:
        """What a phone holds after applying every pulled change from the start."""
        held = {}
        self.cursor = None
        for change in self.pull():
            key = (change["type"], change["entity_id"])
            if change["op"] == "delete":
                held.pop(key, None)
            else:
                held[key] = change["data"]
        return held


def mutation(type_, entity_id=None, data=None, op="upsert", base_version=None, mid=None):
    return {"id": str(mid or uuid.uuid4()), "type": type_, "op": op,
            "entity_id": str(entity_id or uuid.uuid4()), "base_version": base_version,
            "data": data or {}, "client_time": datetime.now(UTC).isoformat()}


def new_check(site, **data):
    return mutation("check", data={"site_id": str(site.id), "mode": "covert",
                                   "started_at": "2026-11-30T09:12:03+08:00",
                                   "notes": "上下班签到检查"} | data)


@pytest.fixture
def phone(client):
    return lambda user: Phone(client, user)
