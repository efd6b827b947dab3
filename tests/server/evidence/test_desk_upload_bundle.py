"""The desk's upload script: `make install` builds it from field/ (npm, esbuild), and the
app serves it as a static file, as the CSP (script-src 'self') requires."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
BUNDLE = ROOT / "server" / "static" / "build" / "desk-upload.js"


def test_make_install_built_the_desk_upload_bundle():
    assert BUNDLE.is_file(), f"{BUNDLE.relative_to(ROOT)} is missing: run `make install`"
    script = BUNDLE.read_text()
    # The form it enhances and the header of the session's CSRF token, as the pages use.
    assert "data-rectification-upload" in script and "X-CSRFToken" in script
    # Bundled: a browser cannot resolve a bare import of the package.
    assert 'from"tus-js-client"' not in script.replace(" ", "")


def test_the_bundle_is_served_as_javascript(client):
    response = client.get("/static/build/desk-upload.js")
    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert response.data == BUNDLE.read_bytes()
