"""The sources' day: CO-THER's sources publish by the day in Korea, and its scheduled runs ask for the
day before theirs there."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

SOURCE_TIMEZONE = ZoneInfo("Asia/Seoul")


def today() -> date:
    return datetime.now(SOURCE_TIMEZONE).date()
