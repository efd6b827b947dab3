"""Geofence maths against real coordinates: a construction site in Xuzhou."""

import math

import pytest

from media.geo import EARTH_RADIUS_M, distance_m, geofence, is_null_island

SITE = (34.2610, 117.1880)  # works on 纺织东路, Xuzhou
RADIUS = 100


def offset(lat: float, lon: float, metres: float, bearing_deg: float) -> tuple[float, float]:
    """The point metres away on a bearing (spherical destination formula, not haversine)."""
    delta, theta = metres / EARTH_RADIUS_M, math.radians(bearing_deg)
    phi1, lambda1 = math.radians(lat), math.radians(lon)
    phi2 = math.asin(
        math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    )
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    return math.degrees(phi2), math.degrees(lambda2)


def phone(metres: float, bearing: float = 45, accuracy: float | None = None) -> dict:
    lat, lon = offset(*SITE, metres, bearing)
    point = {"lat": lat, "lon": lon}
    if accuracy is not None:
        point["accuracy_m"] = accuracy
    return point


def verdict(point, radius=RADIUS):
    return geofence(point, *SITE, radius)


def test_one_degree_of_latitude_is_about_111_km():
    assert distance_m(34.0, 117.0, 35.0, 117.0) == pytest.approx(111_195, abs=1)


def test_beijing_to_shanghai_is_about_1067_km():
    assert distance_m(39.9042, 116.4074, 31.2304, 121.4737) == pytest.approx(1_067_300, rel=2e-3)


def test_distance_is_symmetric_and_zero_at_the_site():
    far = offset(*SITE, 1000, 200)
    assert distance_m(*SITE, *far) == pytest.approx(distance_m(*far, *SITE))
    assert distance_m(*SITE, *SITE) == 0


@pytest.mark.parametrize("bearing", [0, 90, 180, 270, 33])
@pytest.mark.parametrize(
    ("metres", "expected"), [(50, "inside"), (250, "outside"), (1000, "outside")]
)
def test_phone_near_the_site_gets_the_right_verdict(metres, expected, bearing):
    result, distance = verdict(phone(metres, bearing))
    assert result == expected
    assert distance == pytest.approx(metres, abs=0.1)


def test_phone_without_accuracy_is_taken_as_exact():
    assert verdict(phone(99))[0] == "inside"
    assert verdict(phone(101))[0] == "outside"


def test_reported_accuracy_gives_the_benefit_of_the_doubt():
    assert verdict(phone(120, accuracy=30)) == ("inside", 120.0)
    assert verdict(phone(140, accuracy=30)) == ("outside", 140.0)


def test_fix_coarser_than_the_fence_is_unknown():
    assert verdict(phone(50, accuracy=150)) == ("unknown", 50.0)


def test_coarse_fix_far_from_the_site_is_still_outside():
    assert verdict(phone(1000, accuracy=300)) == ("outside", 1000.0)


@pytest.mark.parametrize("accuracy", [-5, float("nan"), float("inf"), "10"])
def test_nonsense_accuracy_vouches_for_nothing(accuracy):
    assert verdict(phone(50) | {"accuracy_m": accuracy})[0] == "unknown"


@pytest.mark.parametrize(
    "point",
    [
        None,
        {},
        {"lat": 34.26},
        {"lat": 0, "lon": 0},
        {"lat": 91.0, "lon": 117.0},
        {"lat": "34.26", "lon": "117.19"},
        {"lat": float("nan"), "lon": 117.0},
    ],
)
def test_no_usable_position_is_unknown(point):
    assert verdict(point) == ("unknown", None)


@pytest.mark.parametrize(
    ("lat", "lon", "radius"),
    [(None, None, 100), (0, 0, 100), (34.261, 117.188, 0), (34.261, 117.188, None)],
)
def test_site_without_location_or_fence_is_unknown(lat, lon, radius):
    assert geofence(phone(10), lat, lon, radius) == ("unknown", None)


def test_null_island_is_only_exactly_zero_zero():
    assert is_null_island(0, 0) and is_null_island(0.0, -0.0)
    assert not is_null_island(0, 0.0001) and not is_null_island(*SITE)
