"""The fuzz tests' tools: seed files and where their headers lie, mutations as Hypothesis
strategies, and the watch kept on every case (outcome, time, memory)."""

import math
import os
import re
import resource
import signal
import struct
import tempfile
import time
import tracemalloc
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

# Values that break parsers: zero, one, the edges of signed and unsigned 8/16/32-bit fields.
INTERESTING = (0, 1, 2, 7, 8, 9, 16, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
               0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF)
HEADER_BYTES = 4096  # "the headers": the first few KB of a file, and its structural boxes
MAX_PIXELS = 100_000_000  # media.photo.DEFAULT_MAX_PIXELS, the pipeline's limit

# Bounds on one case. Python allocations are traced; the native side (Pillow, libheif,
# libjpeg) shows in the process's resident high-water mark, reset before every case.
PY_PEAK_LIMIT = 64 * 2**20
# Address space a case may add (children inherit the cap): a runaway allocation fails there
# with a MemoryError, reported as a failure, before it can take the machine down.
AS_HEADROOM = 4 * 2**30
RSS_GROWTH_LIMIT = 512 * 2**20
CHILD_RSS_LIMIT = 1024 * 2**20  # ffprobe and ffmpeg, the largest child so far
# A photo seed decodes in milliseconds of this process's CPU, a recording's three tool runs
# take a fraction of a second: far past that, a file has found a loop. CPU time is the
# measure (a busy machine does not move it); the wall clock only stops a hang.
CPU_SECONDS = {"photo": 1.0, "av": 2.0}
CASE_SECONDS = {"photo": 10.0, "av": 90.0}
TOOL_SECONDS = 20.0  # a 1 s clip; any ffmpeg run this long is a hang


@dataclass(frozen=True)
class Seed:
    """A valid file, where its headers lie and which fields hold sizes, counts or offsets."""

    name: str
    kind: str  # "photo" | "audio" | "video"
    data: bytes
    hot: tuple[tuple[int, int], ...]  # [start, end) byte ranges of headers
    fields: tuple[tuple[int, int, str], ...]  # (offset, width, byte order)
    dims: tuple[tuple[int, int, int], ...] = ()  # (width at, height at, width) of images

    def __repr__(self) -> str:
        return f"<{self.name}: {len(self.data):,} bytes>"

    def _repr_pretty_(self, printer, cycle) -> None:
        # Hypothesis prints a failing test's arguments field by field, and warns (an error
        # under this suite's settings) when that runs to 100 kB; the name says enough.
        printer.text(repr(self))


def describe(name: str, kind: str, data: bytes) -> Seed:
    """The seed with its headers and fields found by walking the file's structure."""
    hot, fields, dims = [(0, min(len(data), HEADER_BYTES))], [], []
    if data.startswith(b"\xff\xd8"):
        _jpeg(data, hot, fields, dims)
    elif data.startswith(b"\x89PNG"):
        _png(data, hot, fields, dims)
    else:
        _boxes(data, 0, len(data), hot, fields, dims, top=True)
    for start in (m.start() for m in re.finditer(rb"II\*\x00|MM\x00\*", data)):
        _tiff(data, start, fields)
    return Seed(name, kind, data, tuple(hot), tuple(sorted(set(fields))), tuple(dims))


def describe_tiff(block: bytes) -> Seed:
    """A TIFF block (an EXIF block without its "Exif" prefix) as a seed of its own."""
    fields = []
    _tiff(block, 0, fields)
    return Seed("exif", "photo", block, ((0, len(block)),), tuple(sorted(set(fields))))


def _jpeg(data, hot, fields, dims):
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker, length = data[pos + 1], int.from_bytes(data[pos + 2 : pos + 4], "big")
        fields.append((pos + 2, 2, "big"))
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            fields += [(pos + 5, 2, "big"), (pos + 7, 2, "big"), (pos + 9, 1, "big")]
            dims.append((pos + 7, pos + 5, 2))
        if marker == 0xDA:
            hot.append((0, min(len(data), pos + 2 + length + 64)))
            return
        pos += 2 + length


def _png(data, hot, fields, dims):
    pos = 8
    while pos + 8 <= len(data):
        length, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
        fields.append((pos, 4, "big"))
        if kind == b"IHDR":
            fields += [(pos + 8, 4, "big"), (pos + 12, 4, "big")]
            dims.append((pos + 8, pos + 12, 4))
        if kind == b"IDAT":
            hot.append((0, min(len(data), pos + 8 + 64)))
            return
        pos += 12 + length


_CONTAINERS = {b"moov": 0, b"trak": 0, b"mdia": 0, b"minf": 0, b"stbl": 0, b"udta": 0,
               b"edts": 0, b"dinf": 0, b"iprp": 0, b"ipco": 0, b"ilst": 0, b"wave": 0,
               b"stsd": 8, b"iref": 4, b"dref": 8, b"iinf": 6,
               b"avc1": 78, b"hvc1": 78, b"mp4a": 28}
# Full boxes whose first field after version and flags is a count or a size.
_COUNTED = {b"stts": 12, b"stsc": 12, b"stco": 12, b"co64": 12, b"stss": 12, b"ctts": 12,
            b"elst": 12, b"stsz": 16, b"keys": 12, b"iloc": 12, b"ipma": 12, b"pitm": 12}


def _boxes(data, start, end, hot, fields, dims, top=False):
    pos = start
    while pos + 8 <= end:
        size, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
        if size < 8 or pos + size > end:
            return
        fields.append((pos, 4, "big"))
        if top and kind in (b"moov", b"meta", b"ftyp"):
            hot.append((pos, pos + size))
        if kind == b"meta":  # a full box in ISO files, a plain container in QuickTime
            skip = 4 if data[pos + 8 : pos + 12] == b"\x00\x00\x00\x00" else 0
            _boxes(data, pos + 8 + skip, pos + size, hot, fields, dims)
        elif kind in _CONTAINERS:
            _boxes(data, pos + 8 + _CONTAINERS[kind], pos + size, hot, fields, dims)
        if kind in _COUNTED and pos + _COUNTED[kind] + 4 <= pos + size:
            fields.append((pos + _COUNTED[kind], 4, "big"))
        if kind in (b"mvhd", b"mdhd"):  # timescale and duration (version 0)
            fields += [(pos + 20, 4, "big"), (pos + 24, 4, "big")]
        if kind in (b"avc1", b"hvc1"):
            fields += [(pos + 32, 2, "big"), (pos + 34, 2, "big")]
        if kind == b"ispe":
            fields += [(pos + 12, 4, "big"), (pos + 16, 4, "big")]
            dims.append((pos + 12, pos + 16, 4))
        pos += size


def _tiff(data, start, fields):
    """The IFD counts and entries' count and value fields of a TIFF block at `start`."""
    order = "little" if data[start] == ord("I") else "big"
    fields.append((start + 4, 4, order))
    seen, todo = set(), [int.from_bytes(data[start + 4 : start + 8], order)]
    while todo and len(seen) < 8:
        ifd = todo.pop()
        at = start + ifd
        if ifd in seen or at + 2 > len(data):
            continue
        seen.add(ifd)
        count = int.from_bytes(data[at : at + 2], order)
        fields.append((at, 2, order))
        for i in range(min(count, 64)):
            entry = at + 2 + 12 * i
            if entry + 12 > len(data):
                break
            fields += [(entry + 2, 2, order), (entry + 4, 4, order), (entry + 8, 4, order)]
            if int.from_bytes(data[entry : entry + 2], order) in (0x8769, 0x8825, 0xA005):
                todo.append(int.from_bytes(data[entry + 8 : entry + 12], order))
        next_at = at + 2 + 12 * count
        if next_at + 4 <= len(data):
            fields.append((next_at, 4, order))


# --- mutations -------------------------------------------------------------------------------


def _positions(seed: Seed):
    hot = st.sampled_from(seed.hot).flatmap(lambda r: st.integers(r[0], max(r[0], r[1] - 1)))
    anywhere = st.integers(0, max(0, len(seed.data) - 1))
    return st.one_of(hot, hot, hot, anywhere)  # three in four land in the headers


def _values(width: int):
    top = 2 ** (8 * width) - 1
    return st.one_of(st.sampled_from([v & top for v in INTERESTING]), st.integers(0, top))


def edits(seed: Seed, max_ops: int = 6):
    """Lists of byte edits of `seed`: flips, overwrites, insertions, deletions, and sizes,
    counts, dimensions and offsets set to values that break parsers."""
    pos = _positions(seed)
    ops = [
        st.tuples(st.just("flip"), pos, st.integers(1, 255)),
        st.tuples(st.just("set"), pos, st.integers(0, 255)),
        st.tuples(st.just("insert"), pos, st.binary(min_size=1, max_size=16)),
        st.tuples(st.just("delete"), pos, st.integers(1, 64)),
        st.tuples(st.just("int"), pos, st.sampled_from([2, 4]), st.sampled_from(INTERESTING),
                  st.sampled_from(["big", "little"])),
    ]
    if seed.fields:
        ops.append(st.sampled_from(seed.fields).flatmap(lambda f: st.one_of(
            st.tuples(st.just("field"), st.just(f), _values(f[1])),
            st.tuples(st.just("nudge"), st.just(f), st.integers(-64, 64)))))
        ops.append(ops[-1])  # structure-aware edits find the most: draw them twice as often
    return st.lists(st.one_of(ops), min_size=1, max_size=max_ops)


def truncations(seed: Seed):
    """A length to cut `seed` to: anywhere, or more often inside its headers."""
    end = max(r[1] for r in seed.hot)
    return st.one_of(st.integers(0, end), st.integers(0, len(seed.data)))


def apply(data: bytes, ops) -> bytes:
    buf = bytearray(data)
    for op in ops:
        kind = op[0]
        if kind in ("field", "nudge"):
            (at, width, order), value = op[1], op[2]
            if at + width > len(buf):
                continue
            if kind == "nudge":
                value += int.from_bytes(buf[at : at + width], order)
            buf[at : at + width] = (value % 2 ** (8 * width)).to_bytes(width, order)
            continue
        at = min(op[1], len(buf))
        if kind == "insert":
            buf[at:at] = op[2]
        elif kind == "delete":
            del buf[at : at + op[2]]
        elif at < len(buf) and kind == "flip":
            buf[at] ^= op[2]
        elif at < len(buf) and kind == "set":
            buf[at] = op[2]
        elif kind == "int":
            width, value, order = op[2], op[3], op[4]
            buf[at : at + width] = (value % 2 ** (8 * width)).to_bytes(width, order)
    return bytes(buf)


def fix_png_crcs(data: bytes) -> bytes:
    """`data` with each PNG chunk's CRC made right, so a mutation reaches past the check."""
    buf, pos = bytearray(data), 8
    while pos + 12 <= len(buf):
        length = int.from_bytes(buf[pos : pos + 4], "big")
        end = pos + 8 + length
        if end + 4 > len(buf):
            break
        buf[end : end + 4] = struct.pack(">I", zlib.crc32(buf[pos + 4 : end]))
        pos = end + 4
    return bytes(buf)


def dimensions(width: int):
    """(width, height) pairs a header could claim: near the pixel limit at any aspect ratio,
    over it, zero, and the edges of the field."""
    top = 2 ** (8 * width) - 1
    side = st.one_of(st.sampled_from([v for v in INTERESTING if v <= top]),
                     st.integers(0, top), st.integers(9_000, 70_000))
    near_limit = st.integers(-(-MAX_PIXELS // top), min(top, MAX_PIXELS)).flatmap(
        lambda w: st.tuples(st.just(w), st.integers(max(1, MAX_PIXELS // w - 2),
                                                    min(top, MAX_PIXELS // w + 2))))
    return st.one_of(st.tuples(side, side), near_limit, near_limit.map(lambda p: p[::-1]))


def with_dimensions(seed: Seed, width: int, height: int) -> bytes:
    buf = bytearray(seed.data)
    for w_at, h_at, size in seed.dims:
        buf[w_at : w_at + size] = min(width, 2 ** (8 * size) - 1).to_bytes(size, "big")
        buf[h_at : h_at + size] = min(height, 2 ** (8 * size) - 1).to_bytes(size, "big")
    return fix_png_crcs(bytes(buf)) if seed.data.startswith(b"\x89PNG") else bytes(buf)


# --- EXIF blocks ---------------------------------------------------------------------------

# Tags the readers look at (orientation, make, model, times, GPS, sub-IFD pointers,
# the thumbnail), so random IFDs often hit code that interprets them.
EXIF_TAGS = (0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x001F, 0x010F, 0x0110, 0x0112,
             0x0132, 0x0201, 0x0202, 0x8769, 0x8825, 0x927C, 0x9003, 0x9004, 0x9010, 0x9011,
             0x9012, 0xA005, 0x0100, 0x0101, 0x0103)
POINTERS = (0x8769, 0x8825, 0xA005)
EXIF_TEXTS = (b"2025:03:14 09:30:05\x00", b"+08:00\x00", b"-14:59\x00", b"9999:99:99 99:99:99",
              b"0000:00:00 00:00:00\x00", b"N\x00", b"S\x00", b"E\x00", b"W\x00", b"Xiaomi\x00",
              b"\x00" * 8, b"\xff" * 8, struct.pack(">II", 1, 0), struct.pack("<II", 0, 0),
              struct.pack(">ii", -1, 0x7FFFFFFF), "小米\x00".encode())


@st.composite
def tiff_blocks(draw):
    """A TIFF block of up to three IFDs whose entries, counts and offsets are random: they
    point at each other, at themselves, into a data area or past the end, and may claim
    more entries than they hold."""
    order = draw(st.sampled_from(["<", ">"]))
    counts = draw(st.lists(st.integers(0, 40), min_size=1, max_size=3))
    offsets, at = [], 8
    for n in counts:
        offsets.append(at)
        at += 2 + 12 * n + 4
    area = b"".join(draw(st.lists(st.one_of(st.sampled_from(EXIF_TEXTS), st.binary(max_size=24)),
                                  max_size=12)))
    end = at + len(area)
    # Pointers favour one place, so many of them can lead to the same IFD, as in a loop.
    favourite = draw(st.sampled_from(offsets))
    target = st.one_of(st.just(favourite), st.sampled_from(offsets),
                       st.integers(at, max(at, end)), st.sampled_from([0, end, end + 1, 2**32 - 1]),
                       st.integers(0, 2**32 - 1))
    tags = st.one_of(st.sampled_from(POINTERS), st.sampled_from(EXIF_TAGS), st.integers(0, 0xFFFF))
    ifds = []
    for n in counts:
        entries = []
        for _ in range(n):
            tag = draw(tags)
            kind = draw(st.one_of(st.sampled_from([2, 3, 4, 5, 7, 10]), st.integers(0, 14)))
            count = draw(st.one_of(st.integers(0, 24), st.sampled_from(INTERESTING)))
            if tag in POINTERS or draw(st.booleans()):
                value = struct.pack(order + "I", draw(target))
            else:
                value = draw(st.binary(min_size=4, max_size=4))
            entries.append(struct.pack(order + "HHI", tag, kind, count) + value)
        # The count an IFD declares: mostly the entries it holds, else more (past the end).
        declared = draw(st.one_of(st.just(n), st.just(n), st.sampled_from([0xFFFF, 0x8000, 0x7FFF,
                                                                           0x100, n + 1])))
        ifds.append(struct.pack(order + "H", declared) + b"".join(entries)
                    + struct.pack(order + "I", draw(st.one_of(st.just(0), target))))
    first = draw(st.one_of(st.just(8), target))
    magic = b"II*\x00" if order == "<" else b"MM\x00*"
    return magic + struct.pack(order + "I", first) + b"".join(ifds) + area


def jpeg_with_exif(jpeg: bytes, tiff: bytes) -> bytes:
    """`jpeg` with its APP1 segments replaced by one holding `tiff` as its EXIF block."""
    body, pos = bytearray(), 2
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF and jpeg[pos + 1] != 0xDA:
        length = int.from_bytes(jpeg[pos + 2 : pos + 4], "big")
        if jpeg[pos + 1] != 0xE1:
            body += jpeg[pos : pos + 2 + length]
        pos += 2 + length
    payload = b"Exif\x00\x00" + tiff[: 0xFFFF - 8]
    app1 = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return b"\xff\xd8" + app1 + bytes(body) + jpeg[pos:]


# Where a PNG can carry EXIF: its own chunk, or text chunks named "exif" that Pillow also
# hands over as the EXIF block (tEXt as bytes, zTXt and iTXt as text).
PNG_EXIF_CHUNKS = {
    "eXIf": lambda tiff: (b"eXIf", tiff),
    "tEXt": lambda tiff: (b"tEXt", b"exif\x00" + tiff),
    "zTXt": lambda tiff: (b"zTXt", b"exif\x00\x00" + zlib.compress(tiff)),
    "iTXt": lambda tiff: (b"iTXt", b"exif\x00\x00\x00\x00\x00" + tiff),
}


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_exif(png: bytes, tiff: bytes, chunk: str = "eXIf") -> bytes:
    """`png` without its eXIf chunk, with `tiff` in a `chunk` just after its header chunk."""
    chunk = png_chunk(*PNG_EXIF_CHUNKS[chunk](tiff))
    parts, pos = [png[:33]], 33
    while pos + 12 <= len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        if png[pos + 4 : pos + 8] != b"eXIf":
            parts.append(png[pos : pos + 12 + length])
        pos += 12 + length
    return parts[0] + chunk + b"".join(parts[1:])


# --- the watch -------------------------------------------------------------------------------


class CaseHung(BaseException):
    """A case ran past its time; BaseException so no `except Exception` can swallow it."""


@dataclass
class Stats:
    """What the fuzz cases did, for the summary line of the run."""

    cases: int = 0
    by_test: dict = field(default_factory=dict)
    outcomes: dict = field(default_factory=dict)  # "result" or the MediaError's first words
    seconds: float = 0.0
    slowest: float = 0.0
    slowest_case: str = ""
    most_cpu: float = 0.0  # seconds of this process's CPU in one case
    py_peak: int = 0  # bytes, tracemalloc
    rss_growth: int = 0  # bytes over the RSS at the case's start
    rss_peak: int = 0  # bytes, the process's high-water mark
    child_rss: int = 0  # bytes, the largest ffprobe or ffmpeg

    def summary(self) -> str:
        mb = 2**20
        tests = ", ".join(f"{k} {v:,}" for k, v in sorted(self.by_test.items()))
        top = ", ".join(f"{k!r} {v:,}" for k, v in sorted(self.outcomes.items(),
                                                         key=lambda kv: -kv[1])[:5])
        return "\n".join((
            f"media fuzz: {self.cases:,} cases in {self.seconds:.1f} s ({tests})",
            f"  slowest case: {self.slowest:.2f} s ({self.slowest_case}); most CPU in one "
            f"case {self.most_cpu:.2f} s",
            f"  peak memory: Python {self.py_peak / mb:.1f} MB in one case (tracemalloc); "
            f"process {self.rss_peak / mb:.0f} MB resident, +{self.rss_growth / mb:.0f} MB "
            f"in one case; ffmpeg/ffprobe {self.child_rss / mb:.0f} MB resident",
            f"  outcomes: {top}"))


STATS = Stats()


def status_bytes(name: str) -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            return int(re.search(rf"^{name}:\s+(\d+)", f.read(), re.M).group(1)) * 1024
    except (OSError, AttributeError):
        return 0


def reset_high_water() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux 4.0+)
        return True
    except OSError:
        return False


def _on_alarm(signum, frame):
    raise CaseHung("the case ran past its time limit")


def watch(test: str, kind: str, run, media_error: type[Exception]):
    """Run one case and check its bounds: a result or `media_error` (returned), ended in
    time, within the memory limits. Any other exception propagates and fails the test."""
    resettable = reset_high_water()
    rss_before = status_bytes("VmRSS")
    # Traced only while the case runs: tracing Hypothesis's own drawing would triple its cost.
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    traced_before = tracemalloc.get_traced_memory()[0]
    limit = CASE_SECONDS[kind]
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = status_bytes("VmSize") + AS_HEADROOM
    if soft == resource.RLIM_INFINITY or cap < soft:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    started, cpu_started, outcome = time.perf_counter(), time.process_time(), None
    hung = False
    try:
        outcome = run()
    except media_error as exc:
        outcome = exc
    except CaseHung:
        hung = True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        py_peak = tracemalloc.get_traced_memory()[1] - traced_before
        if not tracing:
            tracemalloc.stop()
        high_water = status_bytes("VmHWM")
        growth = high_water - rss_before if resettable else 0
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        _record(test, outcome, elapsed, cpu, py_peak, high_water, growth, child)
    out_of_memory = _caused_by(outcome, MemoryError)
    if isinstance(outcome, media_error):
        # Only the message goes on: the chain's tracebacks hold the decoder's frames and
        # with them its image, and Hypothesis keeps every failure it shrinks.
        outcome = media_error(str(outcome))
    assert not hung and elapsed < limit, f"case stopped after {elapsed:.1f} s"
    assert cpu < CPU_SECONDS[kind], f"case took {cpu:.2f} s of CPU"
    assert not out_of_memory, "an allocation hit the address-space cap"
    assert py_peak < PY_PEAK_LIMIT, f"Python allocated {py_peak / 2**20:.0f} MB at peak"
    assert growth < RSS_GROWTH_LIMIT, f"resident memory grew {growth / 2**20:.0f} MB"
    # The kernel keeps only the largest child's peak: a case is to blame if it raised that.
    assert child <= max(children_before, CHILD_RSS_LIMIT), (
        f"ffmpeg or ffprobe reached {child / 2**20:.0f} MB resident")
    return outcome


def _caused_by(exc, kind) -> bool:
    seen = set()
    while isinstance(exc, BaseException) and id(exc) not in seen:
        if isinstance(exc, kind):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _record(test, outcome, elapsed, cpu, py_peak, high_water, growth, child):
    s = STATS
    s.cases += 1
    s.by_test[test] = s.by_test.get(test, 0) + 1
    words = "result" if not isinstance(outcome, Exception) else _gist(str(outcome))
    if outcome is not None:
        s.outcomes[words] = s.outcomes.get(words, 0) + 1
    s.seconds += elapsed
    s.most_cpu = max(s.most_cpu, cpu)
    if elapsed > s.slowest:
        s.slowest, s.slowest_case = elapsed, f"{test}: {words if outcome is not None else 'failed'}"
    s.py_peak, s.rss_peak = max(s.py_peak, py_peak), max(s.rss_peak, high_water)
    s.rss_growth, s.child_rss = max(s.rss_growth, growth), max(s.child_rss, child)


def _gist(message: str) -> str:
    return re.split(r"[(:;.]", message, maxsplit=1)[0].strip()[:48]


def examples(share: float, default: int) -> int:
    """This test's number of examples: `default` in `make test`; with MINGCHA_FUZZ_EXAMPLES
    set, its `share` of that total (rounded up, so the shares add up to at least the total)."""
    total = os.environ.get("MINGCHA_FUZZ_EXAMPLES")
    return math.ceil(int(total) * share) if total else default


def long_run() -> bool:
    return bool(os.environ.get("MINGCHA_FUZZ_EXAMPLES"))


def database_dir() -> Path:
    """Where the long run keeps failing examples, so the next run tries them first."""
    return Path(os.environ.get("MINGCHA_FUZZ_DB") or Path(tempfile.gettempdir()) / "mingcha-fuzz")
