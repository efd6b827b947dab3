"""Device login, revocation and throttling of guessing (docs/sync-protocol.md)."""

from server.extensions import db
from server.models import Device
from tests.conftest import PASSWORD, login


def test_login_returns_token_device_and_user(client, make):
    user = make.user("supervisor")
    response = login(client, user.username, device_name="华为 P60")
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"token", "device_id", "user"}
    assert body["user"] == {"id": str(user.id), "name": user.name, "role": "supervisor"}
    assert len(body["token"]) >= 40
    assert response.headers["Cache-Control"] == "no-store"
    device = db.session.get(Device, __import__("uuid").UUID(body["device_id"]))
    assert device.name == "华为 P60" and device.user_id == user.id


def test_token_is_stored_only_as_a_hash(client, make):
    user = make.user()
    token = login(client, user.username).json["token"]
    stored = db.session.scalars(db.select(Device.token_hash)).all()
    assert stored and token not in stored and all(len(h) == 64 for h in stored)


def test_token_opens_the_api_and_revocation_closes_it(client, make):
    user = make.user()
    token = login(client, user.username).json["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.delete("/api/v1/auth/device", headers=auth).status_code == 204
    again = client.delete("/api/v1/auth/device", headers=auth)
    assert again.status_code == 401
    assert again.mimetype == "application/problem+json"


def test_revoking_one_phone_keeps_the_others_signed_in(client, make):
    user = make.user()
    first = login(client, user.username).json["token"]
    second = login(client, user.username).json["token"]
    client.delete("/api/v1/auth/device", headers={"Authorization": f"Bearer {first}"})
    answer = client.delete("/api/v1/auth/device", headers={"Authorization": f"Bearer {second}"})
    assert answer.status_code == 204


def test_unknown_or_malformed_tokens_get_401(client):
    for header in ("Bearer nonsense", "Bearer ", "Basic dXNlcjpwdw==", ""):
        response = client.delete("/api/v1/auth/device", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json["status"] == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_deactivated_user_token_stops_working(client, make):
    user = make.user()
    token = login(client, user.username).json["token"]
    user.active = False
    db.session.commit()
    response = client.delete("/api/v1/auth/device", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_wrong_password_and_unknown_user_get_the_same_401(client, make):
    user = make.user()
    wrong = login(client, user.username, "not-the-password")
    unknown = login(client, "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json["detail"] == unknown.json["detail"]
    assert db.session.scalar(db.select(db.func.count(Device.id))) == 0


def test_repeated_failures_are_slowed_down_with_retry_after(client, make, app):
    user = make.user()
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert login(client, user.username, "guess").status_code == 401
    blocked = login(client, user.username, PASSWORD)  # even the right password waits
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1
    assert blocked.json["status"] == 429


def test_lock_of_one_username_does_not_block_another(client, make, app):
    victim, colleague = make.user(), make.user()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, victim.username, "guess")
    assert login(client, colleague.username).status_code == 201


def test_success_before_the_limit_resets_the_count(client, make, app):
    user = make.user()
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit - 1):
        login(client, user.username, "guess")
    assert login(client, user.username).status_code == 201
    for _ in range(limit - 1):
        login(client, user.username, "guess")
    assert login(client, user.username).status_code == 201


def test_lock_expires(client, make, app):
    from datetime import timedelta

    from server.models import LoginFailure, utcnow

    user = make.user()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, user.username, "guess")
    for row in db.session.scalars(db.select(LoginFailure)):
        row.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert login(client, user.username).status_code == 201


def test_guesses_sent_at_once_get_no_more_checks_than_the_limit(app, live_server, make,
                                                               monkeypatch):
    """Twenty wrong passwords at once: at most LOGIN_MAX_FAILURES are checked, the rest
    wait (429). Checking a password takes as long as production's argon2 here, so the
    guesses really overlap."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from server.auth import services

    username, checked, lock = make.user().username, [], threading.Lock()

    def slow_verify(password_hash, password):
        with lock:
            checked.append(password)
        time.sleep(0.2)
        return False

    monkeypatch.setattr(services, "verify_password", slow_verify)

    def guess(n):
        return httpx.post(f"{live_server}/api/v1/auth/device", timeout=60, json={
            "username": username, "password": f"guess-{n}", "device_name": "x"})

    with ThreadPoolExecutor(20) as pool:
        statuses = sorted(r.status_code for r in pool.map(guess, range(20)))
    limit = app.config["LOGIN_MAX_FAILURES"]
    assert len(checked) == limit
    assert statuses.count(401) == limit and statuses.count(429) == 20 - limit


def test_right_passwords_sent_at_once_all_sign_in(live_server, make, monkeypatch):
    """Phones sharing an account sign in together: they queue, none is refused (each
    check as slow as production's argon2, so they overlap)."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from server.auth import services

    real = services.verify_password
    monkeypatch.setattr(services, "verify_password",
                        lambda hashed, password: time.sleep(0.2) or real(hashed, password))
    username = make.user().username

    def sign_in(n):
        return httpx.post(f"{live_server}/api/v1/auth/device", timeout=60, json={
            "username": username, "password": PASSWORD, "device_name": f"手机{n}"})

    with ThreadPoolExecutor(8) as pool:
        assert [r.status_code for r in pool.map(sign_in, range(8))] == [201] * 8


def test_an_office_signing_many_people_in_from_one_address_is_never_locked(client, make, app):
    """Successful sign-ins take their attempt back from the address's count."""
    people = [make.user() for _ in range(3)]
    for _ in range(app.config["LOGIN_MAX_FAILURES"] * 5 // 3 + 2):
        for person in people:
            assert login(client, person.username).status_code == 201
