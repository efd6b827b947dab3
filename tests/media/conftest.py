"""Fixtures for the media tests: a builder of test photos saved with the EXIF a test asks for."""

from pathlib import Path

import fuzzing
import pillow_heif
import pytest
from photo_samples import exif_for, scene

pillow_heif.register_heif_opener()
_FORMATS = {".jpg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".heic": "HEIF", ".avif": "AVIF"}


@pytest.fixture
def make_photo(tmp_path):
    """A builder: make_photo(name, image=..., exif=Exif|bytes, quality=..., **exif_for fields)."""

    def build(name="photo.jpg", *, image=None, exif=None, quality=90, **fields) -> Path:
        path = tmp_path / name
        image = image if image is not None else scene(1)
        if exif is None and fields:
            exif = exif_for(**fields)
        # Bytes, not an Exif object: pillow-heif only turns orientation into irot from bytes.
        options = (
            {} if exif is None else {"exif": exif if isinstance(exif, bytes) else exif.tobytes()}
        )
        if path.suffix != ".png":
            options["quality"] = quality
        image.save(path, _FORMATS[path.suffix], **options)
        return path

    return build


def pytest_terminal_summary(terminalreporter, config):
    """The fuzz tests' figures (cases, time, peak memory) under `make fuzz` or with -v."""
    if fuzzing.STATS.cases and (fuzzing.long_run() or config.option.verbose > 0):
        for line in fuzzing.STATS.summary().splitlines():
            terminalreporter.write_line(line)
