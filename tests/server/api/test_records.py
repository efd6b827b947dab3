"""Records' values as phones receive them: the same text str() and isoformat() write."""

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from server.api.records import plain
from sync.records import CheckData

EIGHT_HOURS = timezone(timedelta(hours=8))


@pytest.mark.parametrize("value", [
    uuid.UUID("00000000-0000-4000-8000-00000000000a"),
    uuid.uuid4(),
    date(2026, 12, 3),
    date(1, 1, 1),
    datetime(2026, 12, 3, 9, 12, 3, tzinfo=UTC),
    datetime(2026, 12, 3, 9, 12, 3, 500_000, tzinfo=UTC),
    datetime(2026, 12, 3, 9, 12, 3, 7, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(2026, 12, 3, 9, 12, 3, tzinfo=EIGHT_HOURS),
    CheckData.model_validate({"started_at": "2026-11-30T09:12:03.5+08:00"}).started_at,
    datetime(2026, 12, 3, 9, 12, 3),
    datetime(2026, 12, 3, 9, 12, 3, tzinfo=timezone(timedelta(hours=5, minutes=30, seconds=15))),
])
def test_ids_dates_and_times_read_as_str_and_isoformat_write_them(value):
    expected = str(value) if isinstance(value, uuid.UUID) else value.isoformat()
    assert plain(value) == expected


def test_other_values_pass_through_unchanged():
    location = {"lat": 34.26, "lon": 117.19}
    assert plain(location) is location
    assert plain("上下班签到检查") == "上下班签到检查"
    assert plain(None) is None and plain(3) == 3
