"""Geofence maths: how far from its site evidence was captured, and whether that was on site.

The verdict gives the phone the benefit of its reported accuracy (``accuracy_m``, the
radius the phone is fairly sure it is within), but only while that circle is no larger
than the site's own geofence:

- ``outside``: even the nearest point of the accuracy circle is beyond the radius
  (``distance - accuracy > radius``), so the phone was off site whatever the error;
- ``unknown``: no usable position or site location, or a fix coarser than the geofence
  itself (``accuracy > radius``), which cannot place anyone inside it;
- ``inside``: otherwise, i.e. ``distance <= radius + accuracy`` with ``accuracy <= radius``.

A position without an accuracy is taken as exact (a plain ``distance <= radius``): camera
EXIF seldom carries one, and marking all such photos unknown would hide the real cases.
"""

import math

EARTH_RADIUS_M = 6_371_008.8  # mean radius of the WGS-84 ellipsoid (IUGG)
INSIDE, OUTSIDE, UNKNOWN = "inside", "outside", "unknown"


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))  # min: rounding past 1


def is_null_island(lat: float, lon: float) -> bool:
    """Whether the position is exactly 0,0: what a phone writes when it has no fix."""
    return lat == 0 and lon == 0


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _usable(lat, lon) -> bool:
    return (_number(lat) and _number(lon) and -90 <= lat <= 90 and -180 <= lon <= 180
            and not is_null_island(lat, lon))


def _accuracy(value) -> float:
    if value is None:
        return 0.0
    if not _number(value) or value < 0:
        return math.inf  # a nonsensical accuracy vouches for nothing
    return float(value)


def geofence(point: dict | None, site_lat: float | None, site_lon: float | None,
             radius_m: float | None) -> tuple[str, float | None]:
    """("inside" | "outside" | "unknown", distance in metres rounded to 0.1 or None)."""
    if not point or not _usable(site_lat, site_lon) or not _number(radius_m) or radius_m <= 0:
        return UNKNOWN, None
    lat, lon = point.get("lat"), point.get("lon")
    if not _usable(lat, lon):
        return UNKNOWN, None
    distance = distance_m(lat, lon, site_lat, site_lon)
    accuracy = _accuracy(point.get("accuracy_m"))
    if distance - accuracy > radius_m:
        verdict = OUTSIDE
    elif accuracy > radius_m:
        verdict = UNKNOWN
    else:
        verdict = INSIDE
    return verdict, round(distance, 1)
