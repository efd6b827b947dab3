"""Where evidence was captured against its site, drawn to scale: the positions of a map
view in Web Mercator pixels, and the tiles of a tile server that cover it.

Pure maths for the review console's picture: the site's centre and geofence circle, the
capture point and its accuracy circle. With a tile server (a URL template with ``{z}``,
``{x}`` and ``{y}``) the same positions sit on its tiles; without one, on a plain grid.
"""

import math
from dataclasses import dataclass, field

TILE = 256
MAX_ZOOM = 19
MIN_ZOOM = 3
MAX_LAT = 85.05112878  # Web Mercator's edge


@dataclass
class Circle:
    x: float
    y: float
    r: float


@dataclass
class View:
    size: int
    zoom: int
    site: Circle                 # centre and geofence radius, in pixels of the view
    point: Circle | None         # capture point and its accuracy radius
    metres_per_pixel: float
    scale_m: int                 # a round length for the scale bar
    scale_px: float
    tiles: list[tuple[str, float, float]] = field(default_factory=list)  # url, x, y


def _world(lat: float, lon: float, zoom: int) -> tuple[float, float]:
    """Pixel coordinates of a point on the whole world's map at ``zoom``."""
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    n = TILE * 2 ** zoom
    sin = math.sin(math.radians(lat))
    x = (lon + 180) / 360 * n
    y = (0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)) * n
    return x, y


def metres_per_pixel(lat: float, zoom: int) -> float:
    return 156_543.033_92 * math.cos(math.radians(lat)) / 2 ** zoom


def _round_length(metres: float) -> int:
    """1, 2 or 5 times a power of ten, at most ``metres``."""
    if metres < 1:
        return 1
    power = 10 ** int(math.floor(math.log10(metres)))
    return max(step * power for step in (1, 2, 5) if step * power <= metres)


def view(site_lat: float, site_lon: float, radius_m: float, point=None,
         accuracy_m: float | None = None, size: int = 360, tile_url: str | None = None) -> View:
    """A ``size``-pixel square view centred on the site that shows its geofence and the
    capture point ``(lat, lon)`` with room around them, at the closest zoom that fits."""
    reach = max(radius_m, 10.0)
    if point is not None:
        px, py = _world(point[0], point[1], MAX_ZOOM)
        sx, sy = _world(site_lat, site_lon, MAX_ZOOM)
        reach = max(reach, math.hypot(px - sx, py - sy) * metres_per_pixel(site_lat, MAX_ZOOM)
                    + (accuracy_m or 0))
    zoom = MAX_ZOOM
    while zoom > MIN_ZOOM and reach * 2.3 / metres_per_pixel(site_lat, zoom) > size:
        zoom -= 1
    mpp = metres_per_pixel(site_lat, zoom)
    cx, cy = _world(site_lat, site_lon, zoom)
    left, top = cx - size / 2, cy - size / 2
    site = Circle(size / 2, size / 2, radius_m / mpp)
    spot = None
    if point is not None:
        x, y = _world(point[0], point[1], zoom)
        spot = Circle(x - left, y - top, (accuracy_m or 0) / mpp)
    scale_m = _round_length(size / 4 * mpp)
    tiles = _tiles(tile_url, zoom, left, top, size) if tile_url else []
    return View(size, zoom, site, spot, mpp, scale_m, scale_m / mpp, tiles)


def _tiles(template: str, zoom: int, left: float, top: float, size: int):
    last = 2 ** zoom - 1
    found = []
    for tx in range(int(left // TILE), int((left + size) // TILE) + 1):
        for ty in range(int(top // TILE), int((top + size) // TILE) + 1):
            if 0 <= ty <= last:
                url = (template.replace("{z}", str(zoom)).replace("{x}", str(tx % (last + 1)))
                       .replace("{y}", str(ty)))
                found.append((url, tx * TILE - left, ty * TILE - top))
    return found
