"""Signing in on the web: sessions, CSRF on every form, language, safe redirects."""

import re

from tests.conftest import PASSWORD


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _sign_in(client, username, password=PASSWORD, next_url=None):
    token = _csrf(client.get("/login").get_data(as_text=True))
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"username": username, "password": password,
                                  "csrf_token": token})


def test_start_page_asks_for_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_sign_in_shows_the_start_page_in_chinese(client, make):
    user = make.user("inspector")
    assert _sign_in(client, user.username).status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert user.name in page and "退出" in page


def test_sign_in_without_csrf_token_is_refused(client, make):
    user = make.user()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # still signed out


def test_sign_out_needs_a_post_with_csrf(client, make):
    user = make.user()
    _sign_in(client, user.username)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no token: refused, still signed in
    assert client.get("/").status_code == 200
    token = _csrf(client.get("/").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/").status_code == 302


def test_wrong_password_keeps_you_out(client, make):
    user = make.user()
    response = _sign_in(client, user.username, "wrong-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_web_sign_in_is_throttled_too(client, make, app):
    user = make.user()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _sign_in(client, user.username, "wrong-password")
    response = _sign_in(client, user.username)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1


def test_next_goes_only_to_this_site(client, make):
    user = make.user()
    response = _sign_in(client, user.username, next_url="https://evil.example/")
    assert response.headers["Location"] == "/"


def test_language_can_be_switched_to_english(client, make):
    user = make.user()
    _sign_in(client, user.username)
    token = _csrf(client.get("/").get_data(as_text=True))
    client.post("/lang/en", data={"csrf_token": token, "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert "Sign out" in page and "退出" not in page


def test_supervisor_start_page_lists_only_own_checks(client, make):
    site = make.site(name="纺织东路改造工程")
    other_site = make.site(name="碧水湾桥")
    mine, theirs = make.user("supervisor"), make.user("supervisor")
    make.check(mine, site)
    make.check(theirs, other_site)
    _sign_in(client, mine.username)
    page = client.get("/").get_data(as_text=True)
    assert "纺织东路改造工程" in page and "碧水湾桥" not in page


def test_a_nul_in_the_username_is_a_wrong_sign_in_not_a_server_error(client, make):
    make.user(username="wangfang")
    response = _sign_in(client, "wang\x00fang")
    assert response.status_code == 401


def test_pages_send_security_headers_and_run_no_inline_script(client, make):
    user = make.user()
    _sign_in(client, user.username)
    for path in ("/login", "/"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in response.headers  # not production TLS
        page = response.get_data(as_text=True)
        assert "<script>" not in page and " style=" not in page and " onclick=" not in page


def test_hsts_in_production_behind_tls(app, client):
    app.config["ENV_NAME"] = "production"
    response = client.get("/login", base_url="https://mingcha.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in client.get("/login").headers  # plain http
