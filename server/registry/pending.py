"""Registry files uploaded at the desk, kept between the preview and the import.

Each upload is a folder ``registry-imports/<token>/`` under UPLOAD_DIR, which the web hosts
share (the request that confirms may reach another host than the upload did). It holds
the files under names of ours, never the person's, and ``kept.json``: who uploaded them,
when, and what their files were called. The token is random and also sits in the
uploader's session, so neither another person nor another browser of the same person can
import them. The folder goes once imported; any older than KEEP_SECONDS goes at the next
upload.
"""

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from ..errors import Problem

# All files of one import together. A bureau's whole registry is some 100 KB of CSV.
MAX_BYTES = 5 * 1024 * 1024
# What a workbook may unpack to: a 5 MB zip of repeated cells can hold gigabytes.
MAX_UNPACKED = 50 * 1024 * 1024
MAX_FILES = 10
KEEP_SECONDS = 3600
SUFFIXES = (".xlsx", ".csv")
CHUNK = 64 * 1024
FOLDER = "registry-imports"
_TOKEN = re.compile(r"[0-9a-f]{32}")
# A colon would blur where a message's file name ends and its sheet and row begin.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f:]")


@dataclass
class Kept:
    """An upload kept for its import: its folder, and its files as the person named them,
    with the sha256 and size of each for the audit trail."""

    token: str
    folder: Path
    owner: str
    files: list[dict]

    @property
    def names(self) -> list[str]:
        return [f["name"] for f in self.files]

    @property
    def paths(self) -> list[str]:
        return [str(self.folder / f"{n}{Path(f['name']).suffix.lower()}")
                for n, f in enumerate(self.files)]


def _root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / FOLDER


def keep(uploads, owner: str) -> Kept:
    """Keep the uploaded files; 422 or 413 (nothing kept) for none, too many, a type that
    is not XLSX or CSV, or more than MAX_BYTES."""
    uploads = [u for u in uploads if u and u.filename]
    if not uploads:
        raise Problem(422, _("No file"), _("Choose one or more XLSX or CSV files."))
    if len(uploads) > MAX_FILES:
        raise Problem(422, _("Too many files"), _("At most %(n)s files at a time.", n=MAX_FILES))
    names = _names([u.filename for u in uploads])
    for name in names:
        if Path(name).suffix.lower() not in SUFFIXES:
            raise Problem(422, _("Not a registry file"), _(
                "%(name)s is neither an XLSX workbook nor a CSV file. Save the table from "
                "Excel as .xlsx or .csv.", name=name))
    sweep()
    token = secrets.token_hex(16)
    folder = _root() / token
    folder.mkdir(parents=True)
    try:
        files, total = [], 0
        for n, (upload, name) in enumerate(zip(uploads, names, strict=True)):
            path = folder / f"{n}{Path(name).suffix.lower()}"
            kept = _copy(upload.stream, path, MAX_BYTES - total)
            total += kept["size"]
            _check_unpacked(path, name)
            files.append({"name": name} | kept)
        (folder / "kept.json").write_text(json.dumps(
            {"owner": owner, "at": time.time(), "files": files}, ensure_ascii=False))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Kept(token, folder, owner, files)


def _names(filenames: list[str]) -> list[str]:
    """The files' own names, without folders or control characters, each once."""
    names: list[str] = []
    for raw in filenames:
        name = _UNSAFE.sub("_", raw.replace("\\", "/").rsplit("/", 1)[-1]).strip() or "file"
        stem, suffix = os.path.splitext(name)
        stem, suffix = stem[:80], suffix[:10]
        name, again = stem + suffix, 2
        while name in names:
            name, again = f"{stem} ({again}){suffix}", again + 1
        names.append(name)
    return names


def _copy(stream, path: Path, allowed: int) -> dict:
    digest, size = hashlib.sha256(), 0
    with path.open("wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > allowed:
                raise too_large()
            digest.update(chunk)
            out.write(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


def too_large() -> Problem:
    return Problem(413, _("Files too large"), _(
        "The files may be at most %(mb)s MB together. A registry that large is a mistake: "
        "check that the right files were chosen, or import them a few at a time.",
        mb=MAX_BYTES // (1024 * 1024)))


def _check_unpacked(path: Path, name: str):
    try:
        with zipfile.ZipFile(path) as book:
            unpacked = sum(member.file_size for member in book.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip, or a broken one: the reader says what is wrong with it
    if unpacked > MAX_UNPACKED:
        raise Problem(413, _("Workbook too large"), _(
            "%(name)s unpacks to more than %(mb)s MB; no registry is that large. Save the "
            "tables again as plain workbooks or CSV files.",
            name=name, mb=MAX_UNPACKED // (1024 * 1024)))


def find(token, owner: str) -> Kept | None:
    """The kept upload the token names, if ``owner`` made it and it has not expired."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return None
    folder = _root() / token
    try:
        kept = json.loads((folder / "kept.json").read_text())
    except (OSError, ValueError):
        return None
    if kept.get("owner") != owner or time.time() - kept.get("at", 0) > KEEP_SECONDS:
        return None
    return Kept(token, folder, owner, kept["files"])


def take(kept: Kept) -> Kept | None:
    """Claim the upload for one import: a second press of the button, or a second request
    at the same moment, finds it gone."""
    taking = kept.folder.with_name(f"{kept.token}.taking")
    try:
        kept.folder.rename(taking)
    except OSError:
        return None
    return Kept(kept.token, taking, kept.owner, kept.files)


def put_back(taken: Kept):
    """After a refused import: the upload can be previewed and tried again."""
    with contextlib.suppress(OSError):  # swept meanwhile: the preview says to upload again
        taken.folder.rename(taken.folder.with_name(taken.token))


def discard(kept: Kept):
    shutil.rmtree(kept.folder, ignore_errors=True)


def sweep():
    """Remove uploads older than KEEP_SECONDS: previewed and never imported, or left by a
    request that died while importing."""
    root = _root()
    if not root.is_dir():
        return
    oldest = time.time() - KEEP_SECONDS
    for folder in root.iterdir():
        try:
            if folder.stat().st_mtime < oldest:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue  # removed meanwhile by another request
