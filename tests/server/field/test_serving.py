"""The field app as the server serves it: the built shell, its service worker, manifest
and icons, with the caching a phone relies on, and nothing beyond the build."""

import io
import json

import pytest
from PIL import Image

from server.field import views

BUILD = json.loads((views.BUILT / "build.json").read_text()) \
    if (views.BUILT / "build.json").is_file() else None


@pytest.fixture(autouse=True)
def built():
    if BUILD is None:
        pytest.fail("the field app is not built: `make install` builds it")


def test_the_page_loads_its_hashed_assets_and_is_revalidated(client):
    response = client.get("/field/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "no-cache" in response.headers["Cache-Control"]
    page = response.get_data(as_text=True)
    assets = [url for url in BUILD["shell"] if url.startswith("/field/assets/")]
    assert any(url.endswith(".js") and url in page for url in assets)
    # Only this site's scripts, never framed: the shell is a page like the desk's.
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert client.get("/field").status_code in (301, 308)


def test_every_file_of_the_offline_shell_is_served(client):
    for url in BUILD["shell"]:
        response = client.get(url)
        assert response.status_code == 200, url
        if url.startswith("/field/assets/"):
            assert "immutable" in response.headers["Cache-Control"], url


def test_the_service_worker_is_revalidated_and_caches_this_build(client):
    response = client.get("/field/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert "no-cache" in response.headers["Cache-Control"]
    body = response.get_data(as_text=True)
    assert BUILD["version"] in body
    assert all(url in body for url in BUILD["shell"])


def test_the_manifest_makes_the_app_installable(client):
    response = client.get("/field/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["start_url"] == "/field/" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert sizes == {"192x192", "512x512"}
    for size in (192, 512):
        png = client.get(f"/field/icon-{size}.png")
        assert png.mimetype == "image/png"
        assert Image.open(io.BytesIO(png.data)).size == (size, size)


@pytest.mark.parametrize("path", ["/field/icon-64.png", "/field/build.json", "/field/nothing.js",
                                  "/field/assets/nothing.js", "/field/../server/config.py",
                                  "/field/assets/../../views.py", "/field/%2e%2e/config.py"])
def test_nothing_outside_the_build_is_served(client, path):
    assert client.get(path).status_code == 404


def test_an_unbuilt_app_says_how_to_build_it(client, tmp_path, monkeypatch):
    monkeypatch.setattr(views, "BUILT", tmp_path)
    response = client.get("/field/")
    assert response.status_code == 503
    assert "make assets" in response.get_data(as_text=True)
