"""Checking an evidence package: each file against the sha256 its manifest lists, and
what was added or removed. Reads only the ZIP; needs no database."""

import hashlib
import json
import lzma
import zipfile
import zlib
from dataclasses import dataclass

from media.storage import CHUNK

MANIFEST = "manifest.json"
MAX_MANIFEST = 64 * 1024 * 1024  # some kilobytes per evidence: room for a hundred thousand

# --- Verify -----------------------------------------------------------------------------

# What reading a damaged or hostile zip raises: a bad CRC or header (BadZipFile), bad
# deflate data (zlib.error), an unknown compression method (NotImplementedError), an
# encrypted entry (RuntimeError), a truncated file (EOFError), bad JSON (ValueError).
_UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, lzma.LZMAError,
               NotImplementedError, RuntimeError, EOFError, OSError, ValueError)


@dataclass
class Examined:
    """What ``examine_package`` found."""

    files: int  # listed in the manifest
    problems: list[str]
    manifest_sha256: str | None = None  # to compare with the case_packaged audit event


def verify_package(path) -> list[str]:
    """What is wrong with the package at ``path``: files changed, added or removed since
    its manifest was written; a broken zip or manifest. Empty when intact."""
    return examine_package(path).problems


def examine_package(path) -> Examined:
    """Check every file of the package against its manifest."""
    try:
        with zipfile.ZipFile(path) as zf:
            listed = _listed(zf)
            if isinstance(listed, str):
                return Examined(0, [listed])
            return Examined(len(listed), _compare(zf, listed), _digest(zf, MANIFEST))
    except _UNREADABLE as problem:
        return Examined(0, [f"not a readable zip file: {problem}"])


def _listed(zf) -> dict | str:
    """The manifest's ``files`` map, or the problem that keeps it from being read."""
    try:
        info = zf.getinfo(MANIFEST)
        if info.file_size > MAX_MANIFEST:  # zipfile reads no more than the size it states
            return f"changed: {MANIFEST} is {info.file_size:,} bytes, too large for a manifest"
        manifest = json.loads(zf.read(info))
    except KeyError:
        return f"removed: {MANIFEST} (the package has no manifest)"
    except _UNREADABLE as problem:  # ValueError: not JSON, not UTF-8
        return f"changed: {MANIFEST} cannot be read ({problem})"
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        return f"changed: {MANIFEST} has no list of files"
    return files


def _compare(zf, listed: dict) -> list[str]:
    problems, seen = [], set()
    for info in zf.infolist():
        name = info.filename
        if name == MANIFEST and name not in seen:
            seen.add(name)
            continue
        if name not in listed or name in seen:  # a second entry of one name is added too
            problems.append(f"added: {name}")
        elif _digest(zf, info) != listed[name]:
            problems.append(f"changed: {name}")
        seen.add(name)
    problems += [f"removed: {name}" for name in listed if name not in seen]
    return problems


def _digest(zf, info) -> str | None:
    """The sha256 of an entry; None when it cannot be read (a byte changed in place
    fails zip's own CRC)."""
    digest = hashlib.sha256()
    try:
        with zf.open(info) as source:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
    except _UNREADABLE:
        return None
    return digest.hexdigest()
