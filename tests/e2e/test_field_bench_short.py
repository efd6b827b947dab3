"""The field app benchmark in short (bench/field_bench.py is the long one): its very
measures, with 4 photos of 1 MB, against the test server (``live_server``, on SQLite and
on PostgreSQL, media processed inside the upload request). What a user would check, not
timings: the app ships at most 150 KB of gzipped JS and CSS, opened with no network it
shows the check screen, and every photo chosen offline arrives on the server byte for
byte, from the app and from the reference client alike."""

import hashlib
import sys
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from server.evidence.storage import storage
from tests.conftest import PASSWORD

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import field_bench  # noqa: E402  (bench/ is not a package)


@pytest.fixture(scope="module")
def chromium():
    if not Path(field_bench.CHROMIUM).exists():
        pytest.fail(f"{field_bench.CHROMIUM} is missing: `make install` installs it")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=field_bench.CHROMIUM, headless=True,
                                    args=["--no-sandbox"])
        yield browser
        browser.close()


def _stored_whole(check_id: str, photos: dict) -> None:
    """Every photo is an evidence of the check, its upload complete, and the stored bytes
    are the file's (their sha256 is the one computed here)."""
    kept = field_bench.stored(check_id)
    assert sorted(kept) == sorted(photos.values())
    for sha256, key in kept.items():
        with storage().open(key) as original:
            assert hashlib.sha256(original.read()).hexdigest() == sha256


def test_the_field_bench_in_short(make, live_server, chromium, tmp_path, capsys):
    lat, lon = field_bench.HERE["latitude"], field_bench.HERE["longitude"]
    make.site(name="局办公室", lat=lat, lon=lon, radius_m=80)
    phone, reference = make.user("supervisor"), make.user("supervisor")
    photos = field_bench.make_photos(tmp_path / "photos", 4, 1)

    app = field_bench.measure_app(chromium, live_server, phone.username, PASSWORD, photos,
                                  opens=3, say=lambda _text: None)
    ref = field_bench.reference_sync(live_server, reference.username, PASSWORD, photos,
                                     tmp_path / "reference")

    scripts = app["first_load"]
    assert any(url.endswith(".js") for url in scripts), scripts
    assert sum(gz for _raw, gz in scripts.values()) <= field_bench.JS_TARGET_KB * field_bench.KB
    assert len(app["opens_ms"]) == 3  # each offline open reached the check's photo button
    _stored_whole(app["check_id"], photos)
    _stored_whole(ref["check_id"], photos)
    field_bench.report(app, ref, photos, (4, 4), "the test server")
    printed = capsys.readouterr().out
    assert "target <= 150 KB gz" in printed and "ratio app/reference" in printed
