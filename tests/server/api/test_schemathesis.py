"""schemathesis over the whole OpenAPI document (issue 9, point 14).

Every operation of /api/v1/openapi.json, on the demo bureau, signed in as each role and
without a token, on both databases: no answer is a 5xx, and every answer is one the
document declares (status code, content type, body schema, headers).

The app is driven in-process through the test client. Generated requests are aimed, now
and then, at real things of the demo bureau (records to push to, evidence with a stored
original and derived files, an upload of the role's own in progress), so that they do
not all end in a 404. tus requests carry what tus clients send (Tus-Resumable, upload
headers, octet-stream bodies), generated too, since the document declares no headers.
Failures are collected, not raised inside Hypothesis: one run reports every operation
that is wrong, with the request (as curl) and the answer, in a bounded time (no shrinking).
"""

import base64
import hashlib
import io
import itertools
import random
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.demo import data, services
from server.extensions import db
from server.models import (
    Case,
    Category,
    Check,
    Finding,
    LoginFailure,
    Plan,
    Rectification,
    Site,
    Unit,
    Upload,
    User,
)
from sync.tus import encode_metadata
from tests.conftest import login

# One demo account per role. None: no token at all (anonymous), or an account World picks
# from the demo: the unit contact is one whose unit has a rectification to upload evidence
# for; the inspector and the supervisor, the first of their role with a check.
ACCOUNTS = {"inspector": None, "supervisor": None, "reviewer": "reviewer",
            "compiler": "compiler", "unit": None, "admin": "admin", "anonymous": None}
EXAMPLES = 8  # per operation, role and generation mode: keeps the file within CI's time
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
# Invalid tokens are the anonymous run's business: negative cases break something else.
CONFIG = {"generation": {"with-security-parameters": False}}
TUS = "1.0.0"
OFFSET_TYPE = "application/offset+octet-stream"
FUZZ_ADDRESS = "203.0.113.9"  # fuzzed sign-ins count their failures against this address
FILE = bytes(range(120))  # what the role's own uploads are of
# Record types a push may name, each with an order that is the same on every run.
RECORDS = {"unit": Unit.code, "site": Site.code, "category": Category.code, "plan": Plan.title,
           "check": Check.started_at, "finding": Finding.created_at, "case": Case.created_at,
           "rectification": Rectification.created_at}


def _jpeg(colour=(200, 120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return out.getvalue()


class World:
    """The demo bureau as one role sees it: its token, and real things to aim at."""

    def __init__(self, client, role):
        self.client, self.role, self.username = client, role, ACCOUNTS[role]
        self.headers, self.device_id = {}, None
        self.evidence_ids, self.derivatives, self.others_uploads = [], [], []
        self.records: list[tuple[str, str, int]] = []  # (type, id, version) to push to
        self.parent = {}  # what the role's uploads name: its check, its rectification
        self._receiving, self.ended_uploads = None, []
        if role == "unit":
            rect = db.session.scalars(db.select(Rectification).order_by(
                Rectification.created_at, Rectification.id)).first()
            self.username = db.session.scalar(db.select(User.username).where(
                User.role == "unit", User.unit_id == rect.case.unit_id))
            self.parent = {"rectification_id": str(rect.id)}
        elif role in ("inspector", "supervisor"):
            # The demo's month ends when it is loaded, so who has made checks by then
            # depends on the hour: a fixed account (jiandu01) had none on some evenings.
            self.username, check_id = self._first_author(role)
            self.parent = {"check_id": str(check_id)}
        if self.username:
            self.sign_in()

    def sign_in(self):
        answer = login(self.client, self.username, data.PASSWORD)
        assert answer.status_code == 201, answer.get_data(as_text=True)
        self.headers = {"Authorization": f"Bearer {answer.json['token']}"}
        self.device_id = answer.json["device_id"]

    @staticmethod
    def _first_author(role):
        """The role's first account (by name) with a check, and its first check."""
        found = db.session.execute(
            db.select(User.username, Check.id).join(User, Check.created_by == User.id)
            .where(User.role == role).order_by(User.username, Check.started_at).limit(1)
        ).first()
        assert found is not None, f"the demo has no check by any {role}"
        return found

    def collect_records(self):
        for kind, order in RECORDS.items():
            model = order.class_
            for record in db.session.scalars(db.select(model).order_by(order, model.id)
                                             .limit(2)):
                self.records.append((kind, str(record.id), record.version))
        if "check_id" in self.parent:
            check = db.session.get(Check, uuid.UUID(self.parent["check_id"]))
            self.records.append(("check", str(check.id), check.version))

    def add_ready_evidence(self):
        """inspector1's photo on their own check: pushed, uploaded and processed."""
        phone = World(self.client, "inspector")
        photo, evidence_id = _jpeg(), uuid.uuid4()
        pushed = self.client.post("/api/v1/sync/push", headers=phone.headers, json={
            "device_id": phone.device_id, "mutations": [{
                "id": str(uuid.uuid4()), "type": "evidence", "op": "upsert",
                "entity_id": str(evidence_id), "base_version": None,
                "data": {"check_id": phone.parent["check_id"], "kind": "photo",
                         "sha256": hashlib.sha256(photo).hexdigest(), "size": len(photo),
                         "filename": "IMG_0001.jpg"}}]})
        assert pushed.json["results"][0]["status"] == "applied", pushed.json
        created = _create_upload(self.client, phone.headers, photo, evidence_id,
                                 phone.parent, body=photo)
        assert created.status_code == 201, created.get_data(as_text=True)
        shown = self.client.get(f"/api/v1/evidence/{evidence_id}", headers=phone.headers)
        assert shown.json["state"] == "ready", shown.json
        self.evidence_ids.append(str(evidence_id))
        self.derivatives += sorted(shown.json["derivatives"])
        self.others_uploads.append(_upload_id(created))  # the inspector's, not ours
        self.records.append(("evidence", str(evidence_id), shown.json["version"]))

    def add_failed_upload(self):
        """An upload of this role's own whose bytes did not match its sha256: gone (410)."""
        if not self.parent:
            return
        created = _create_upload(self.client, self.headers, FILE, uuid.uuid4(), self.parent,
                                 sha256="0" * 64)
        assert created.status_code == 201, created.get_data(as_text=True)
        failed = self.client.patch(created.headers["Location"], data=FILE, headers=self.headers
                                   | {"Tus-Resumable": TUS, "Content-Type": OFFSET_TYPE,
                                      "Upload-Offset": "0"})
        assert failed.status_code == 460, failed.get_data(as_text=True)
        self.ended_uploads.append(_upload_id(created))

    def own_uploads(self) -> list[str]:
        """This role's uploads: one still receiving, 20 bytes short of its end (made anew
        once it ended), and those that ended (failed, complete or terminated)."""
        if not self.parent:
            return []
        upload = self._receiving and db.session.get(Upload, uuid.UUID(self._receiving))
        if upload is None or upload.state != "receiving":
            if self._receiving:
                self.ended_uploads.append(self._receiving)
            created = _create_upload(self.client, self.headers, FILE, uuid.uuid4(),
                                     self.parent, body=FILE[:100])
            assert created.status_code == 201, created.get_data(as_text=True)
            self._receiving = _upload_id(created)
        return [self._receiving, *self.ended_uploads]


def _upload_id(response) -> str:
    return response.headers["Location"].rsplit("/", 1)[1]


def _create_upload(client, headers, content, evidence_id, parent, body=b"", sha256=None):
    meta = {"evidence_id": str(evidence_id), "kind": "photo", "filename": "a.jpg",
            "sha256": sha256 or hashlib.sha256(content).hexdigest()} | parent
    extra = {"Content-Type": OFFSET_TYPE} if body else {}
    return client.post("/api/v1/uploads", data=body, headers=headers | extra | {
        "Tus-Resumable": TUS, "Upload-Length": str(len(content)),
        "Upload-Metadata": encode_metadata(meta)})


# --- what a request carries beyond what the document generates --------------------------

def _aim(case, world: World, rng: random.Random) -> dict:
    """Point a generated request at real things now and then; extra headers to send."""
    params, headers = case.path_parameters or {}, {}
    if "evidence_id" in params and rng.random() < 0.6:
        params["evidence_id"] = rng.choice(world.evidence_ids)
        if "name" in params and rng.random() < 0.7:
            params["name"] = rng.choice(world.derivatives)
    if case.path.startswith("/evidence/") and rng.random() < 0.5:
        headers["Range"] = rng.choice(["bytes=0-9", "bytes=-5", "bytes=100-", "bytes=999999-",
                                       "bytes=5-2", "bytes=0-1,4-5", "items=0-1", "bytes"])
    if "upload_id" in params and rng.random() < 0.7:
        own = world.own_uploads()
        params["upload_id"] = rng.choice(own[:1] * 3 + own + world.others_uploads
                                         + [str(uuid.uuid4())])
    if case.path == "/auth/device" and case.method == "POST" and isinstance(case.body, dict) \
            and rng.random() < 0.5:
        case.body["username"] = rng.choice([u for u in ACCOUNTS.values() if u])
        if rng.random() < 0.5:
            case.body["password"] = data.PASSWORD
    if case.path == "/sync/push" and isinstance(case.body, dict):
        if world.device_id and rng.random() < 0.8:
            case.body["device_id"] = str(world.device_id)
        for mutation in case.body.get("mutations") or []:
            if isinstance(mutation, dict) and rng.random() < 0.6:
                kind, entity_id, version = rng.choice(world.records)
                mutation |= {"type": kind, "entity_id": entity_id,
                             "base_version": rng.choice([version, None, version + 1])}
    return headers


SPOILS = {  # one thing wrong in a tus request, or nothing (None)
    "POST /uploads": ["version", "length", "metadata", "kind", "sha256", "missing", "parent",
                      "type", "checksum"],
    "PATCH /uploads/{upload_id}": ["version", "type", "offset", "checksum"],
    "POST /uploads/{upload_id}": ["version", "type", "offset", "checksum", "override"],
    "HEAD /uploads/{upload_id}": ["version"],
    "DELETE /uploads/{upload_id}": ["version"],
}


def _tus(case, world: World, rng: random.Random) -> dict:
    """Headers and body of a tus request: as tus clients send them, or, about half the
    time, with one thing spoilt."""
    label = f"{case.method} {case.path}"
    if label not in SPOILS:
        return {}
    spoilt = rng.choice(SPOILS[label]) if rng.random() < 0.5 else None
    headers = {"Tus-Resumable": rng.choice(["0.2.2", ""]) if spoilt == "version" else TUS}
    # The role's own upload in progress lacks FILE[100:]; other bytes end it in a 460.
    content = FILE[100:] if rng.random() < 0.5 else rng.randbytes(rng.randint(0, 40))
    if label == "POST /uploads":
        meta = {"evidence_id": rng.choice([str(uuid.uuid4())] + world.evidence_ids),
                "kind": rng.choice(["pdf", ""]) if spoilt == "kind" else "photo",
                "filename": rng.choice(["IMG_0001.jpg", "", "../../etc/passwd", "现场.jpg"]),
                "sha256": rng.choice(["0" * 64, "nope", "0" * 64 + "\n"])
                if spoilt == "sha256" else hashlib.sha256(content).hexdigest()}
        if spoilt != "parent":
            meta |= world.parent
        if spoilt == "missing":
            del meta[rng.choice(sorted(meta))]
        headers["Upload-Length"] = rng.choice([str(len(content) + 10), "-1", "x", "",
                                               str(2**63)]) \
            if spoilt == "length" else str(len(content))
        headers["Upload-Metadata"] = rng.choice(["evidence_id", "kind !!!", "a b c", "", ","]) \
            if spoilt == "metadata" else encode_metadata(meta)
        if rng.random() < 0.5 and spoilt != "type":
            return {"headers": headers}  # creation without its first bytes
    elif case.method in ("HEAD", "DELETE"):
        return {"headers": headers}
    headers["Content-Type"] = rng.choice(["application/octet-stream", "text/plain"]) \
        if spoilt == "type" else OFFSET_TYPE
    if case.path != "/uploads":
        headers["Upload-Offset"] = rng.choice(["-1", "x", "0", "120", "9" * 30]) \
            if spoilt == "offset" else "100"  # where the role's own upload is
    digest = hashlib.sha1(content).digest()  # noqa: S324 - what tus clients send
    if spoilt == "checksum":
        headers["Upload-Checksum"] = rng.choice(["sha1 AAAA", "md5 eHl6", "x", ""])
    elif rng.random() < 0.5:
        headers["Upload-Checksum"] = f"sha1 {base64.b64encode(digest).decode()}"
    if label == "POST /uploads/{upload_id}":
        headers["X-HTTP-Method-Override"] = rng.choice(["PUT", ""]) if spoilt == "override" \
            else rng.choice(["PATCH", "PATCH", "DELETE"])
    return {"headers": headers, "data": content}


# --- the run ---------------------------------------------------------------------------

class Findings:
    """Failures by operation, role and kind: the first request and answer of each."""

    def __init__(self):
        self.seen: dict[tuple, str] = {}

    def add(self, operation, role, kind, text):
        self.seen.setdefault((operation, role, kind), text)

    def report(self) -> str:
        return "\n\n".join(f"=== {op} as {role}: {kind}\n{text}"
                           for (op, role, kind), text in self.seen.items())


def _forget_failed_sign_ins():
    db.session.execute(db.delete(LoginFailure))
    db.session.commit()


def _fuzz(operation, mode, world: World, findings: Findings):
    label, counter = operation.label, itertools.count()

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    # The nonce gives Hypothesis room for EXAMPLES cases where the document leaves none
    # (no parameters): what varies there is chosen below.
    @given(case=operation.as_strategy(generation_mode=mode), nonce=st.integers(0, 2**16))
    def one(case, nonce):
        # What the document does not describe is chosen here, seeded by the example: the
        # same on every run, and not left to the few examples Hypothesis makes.
        rng = random.Random(f"{label} {mode.value} {world.role} {next(counter)} {nonce}")
        aimed = _aim(case, world, rng)
        tus = _tus(case, world, rng)
        headers = world.headers | aimed | tus.pop("headers", {})
        if label == "POST /auth/device":
            tus["environ_base"] = {"REMOTE_ADDR": FUZZ_ADDRESS}
        curl = case.as_curl_command(headers=headers)
        if "data" in tus:
            curl += f"  # body: {tus['data'][:40]!r} ({len(tus['data'])} bytes)"
        try:
            response = case.call(app=world.client.application, session=world.client,
                                 headers=headers, **tus)
        except Exception as exc:  # the app raised: a 500 to a phone
            findings.add(label, world.role, f"{type(exc).__name__} (500)", f"{exc}\n{curl}")
            return
        finally:
            if label == "POST /auth/device":
                _forget_failed_sign_ins()  # locked accounts would end the other runs
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            answer = response.content[:400].decode(errors="replace")
            for failure in group.exceptions:
                findings.add(label, world.role, f"{failure.title} ({response.status_code})",
                             f"{failure.message}\n{curl}\n-> {response.status_code} "
                             f"{response.headers.get('content-type')} {answer}")
        if label == "DELETE /auth/device" and response.status_code == 204:
            world.sign_in()  # that token is revoked now

    one()


@pytest.fixture
def schema(client):
    document = client.get("/api/v1/openapi.json").json
    return schemathesis.openapi.from_dict(document, config=schemathesis.Config.from_dict(CONFIG))


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_every_operation_answers_as_documented(client, schema, role):
    services.load_demo(data.PASSWORD)
    db.session.commit()
    world = World(client, role)
    world.collect_records()
    world.add_ready_evidence()
    world.add_failed_upload()
    findings, ran = Findings(), []
    for result in schema.get_all_operations():
        operation = result.ok()
        # A path parameter is any string: only a body or a query can be made invalid.
        negatable = len(operation.body) or len(operation.query)
        for mode in MODES if negatable else MODES[:1]:
            _fuzz(operation, mode, world, findings)
        ran.append(operation.label)
    assert len(ran) == len(schema) >= 14, ran  # every operation of the document
    assert not findings.seen, f"{len(findings.seen)} failures\n\n{findings.report()}"
