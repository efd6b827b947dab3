"""Photo ingest benchmark: Mingcha's ingest of a 12 MP JPEG next to pyvips making the same sizes.

    .venv/bin/python bench/ingest_bench.py [--rounds 9] [--verbose]

Mingcha's side is what the media job does per photo: a streaming sha256 of the file, then
ingest_photo (probe, the preview and the 320 px thumbnail, pHash; the preview of this
photo is its half-scale decode, 2000 px). pyvips's side is pyvips.Image.thumbnail at the
same two long sides, each written to JPEG bytes at Q=82.
Target (the photo ingest issue): Mingcha / pyvips <= 1.0. Prints both medians and the ratio;
with --verbose also each round's times and the progress.
"""

import argparse
import functools
import hashlib
import io
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyvips
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from verbosity import progress  # noqa: E402

from media.photo import JPEG_QUALITY, ingest_photo  # noqa: E402

SIZE = (4000, 3000)


def make_photo(path: Path) -> None:
    """A 12 MP JPEG that compresses like a photo: gradients, shapes, blur and sensor noise."""
    rng = random.Random(12)
    small = Image.linear_gradient("L").resize((SIZE[0] // 4, SIZE[1] // 4))
    image = Image.merge(
        "RGB", (small, small.rotate(90), small.transpose(Image.Transpose.FLIP_TOP_BOTTOM))
    )
    draw = ImageDraw.Draw(image)
    for _ in range(300):
        x, y = rng.randrange(SIZE[0] // 4), rng.randrange(SIZE[1] // 4)
        box = (x, y, x + rng.randrange(5, 200), y + rng.randrange(5, 150))
        draw.rectangle(box, fill=tuple(rng.randrange(256) for _ in range(3)))
    image = image.filter(ImageFilter.GaussianBlur(2)).resize(SIZE, Image.Resampling.BICUBIC)
    noise = Image.effect_noise(SIZE, 24).convert("RGB")
    image = Image.blend(image, noise, 0.25)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Xiaomi", "22081212C"
    exif.get_ifd(0x8769)[0x9003] = "2025:03:14 09:30:05"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (34, 15, 36.12), "E", (117, 11, 0.5)
    image.save(path, "JPEG", quality=90, exif=exif)


def mingcha(path: Path) -> dict:
    """Streaming sha256 of the file, then probe, both derivatives and the hash."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return ingest_photo(path)


def sides(path: Path) -> tuple[int, ...]:
    """The long sides of the derivatives Mingcha makes of the photo."""
    return tuple(max(Image.open(io.BytesIO(data)).size)
                 for data in ingest_photo(path)["derivatives"].values())


def vips(path: Path, sizes: tuple[int, ...]) -> dict:
    """pyvips.Image.thumbnail at each size, written to JPEG bytes."""
    option = f".jpg[Q={JPEG_QUALITY}]"
    return {size: pyvips.Image.thumbnail(str(path), size).write_to_buffer(option)
            for size in sizes}


def seconds(works, path: Path, rounds: int) -> list[list[float]]:
    """Wall time of each work in each round; rounds alternate between them so load hits
    both alike."""
    times = [[] for _ in works]
    for work in works:
        work(path)  # warm caches and lazy imports
    for _ in range(rounds):
        for spent, work in zip(times, works, strict=True):
            start = time.perf_counter()
            work(path)
            spent.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--verbose", action="store_true",
                        help="also each round's times and the progress")
    args = parser.parse_args()
    say = progress(args.verbose)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "photo.jpg"
        say(f"making a {SIZE[0]}x{SIZE[1]} JPEG")
        make_photo(path)
        megabytes = path.stat().st_size / 1e6
        made = sides(path)
        say(f"one untimed run of each, then {args.rounds} rounds, mingcha and pyvips in turn")
        times = seconds((mingcha, functools.partial(vips, sizes=made)), path, args.rounds)
    if args.verbose:
        for n, (a, b) in enumerate(zip(*times, strict=True), 1):
            print(f"round {n}: mingcha {a * 1000:7.1f} ms   pyvips {b * 1000:7.1f} ms")
    ours, theirs = (statistics.median(spent) for spent in times)
    print(
        f"photo: {SIZE[0]}x{SIZE[1]} JPEG, {megabytes:.1f} MB; "
        f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
    )
    both = " + ".join(map(str, made))
    print(f"mingcha ingest (sha256 + probe + {both} px + phash): {ours * 1000:7.1f} ms")
    print(f"pyvips thumbnail {both} px to JPEG:                  {theirs * 1000:7.1f} ms")
    ratio = ours / theirs
    print(f"ratio {ratio:.2f} (target <= 1.0): {'ok' if ratio <= 1.0 else 'OVER'}")
    return 0 if ratio <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
