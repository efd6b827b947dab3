"""The review console's map: a capture point drawn where it is against the site."""

import math

from media.geo import distance_m
from media.mapview import view

SITE = (34.2610, 117.1860)


def _offset(metres_north: float, metres_east: float):
    lat = SITE[0] + metres_north / 111_320
    return lat, SITE[1] + metres_east / (111_320 * math.cos(math.radians(SITE[0])))


def test_the_site_is_centred_and_its_circle_is_to_scale():
    shown = view(*SITE, 300, size=360)
    assert (shown.site.x, shown.site.y) == (180, 180)
    assert math.isclose(shown.site.r * shown.metres_per_pixel, 300)
    assert shown.site.r * 2 < 360  # the whole geofence fits


def test_a_point_outside_is_drawn_at_its_distance_and_bearing():
    point = _offset(0, 800)  # 800 m east
    shown = view(*SITE, 300, point, accuracy_m=25, size=360)
    dx, dy = shown.point.x - shown.site.x, shown.point.y - shown.site.y
    drawn = math.hypot(dx, dy) * shown.metres_per_pixel
    assert math.isclose(drawn, distance_m(*SITE, *point), rel_tol=0.01)
    assert dx > 0 and abs(dy) < 1  # east, on the same row
    assert 0 < shown.point.x + shown.point.r < 360  # still in the picture
    assert math.isclose(shown.point.r * shown.metres_per_pixel, 25)


def test_tiles_cover_the_view_and_name_their_zoom():
    shown = view(*SITE, 80, _offset(50, 0), size=360,
                 tile_url="https://tiles.example.gov.cn/{z}/{x}/{y}.png")
    assert shown.tiles
    for url, x, y in shown.tiles:
        assert url.startswith(f"https://tiles.example.gov.cn/{shown.zoom}/")
        assert -256 < x < 360 and -256 < y < 360
    covered_x = {x for _u, x, _y in shown.tiles}
    assert min(covered_x) <= 0 and max(covered_x) + 256 >= 360


def test_the_scale_bar_is_a_round_length():
    shown = view(*SITE, 300, size=360)
    assert str(shown.scale_m)[0] in "125" and set(str(shown.scale_m)[1:]) <= {"0"}
    assert math.isclose(shown.scale_px * shown.metres_per_pixel, shown.scale_m)
