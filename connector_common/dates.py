"""Date-times read from settings, states and records, and written in the APIs' own format."""

from datetime import datetime, timezone
from typing import Any, Optional, Union


def parse_datetime(value: Union[str, datetime]) -> datetime:
    """An ISO 8601 date or date-time as an aware UTC datetime (UTC assumed without an offset; `Z`, `+0000` and a space
    before the time accepted). Raises ValueError for anything else."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = value.strip().replace(" ", "T")
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        if len(text) >= 5 and text[-5] in "+-" and text[-3] != ":" and "T" in text:  # +0000 -> +00:00
            text = text[:-2] + ":" + text[-2:]
        parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def parse_datetime_or_none(value: Any) -> Optional[datetime]:
    """parse_datetime, or None for an empty value or one that is not a date-time."""
    if not value or not isinstance(value, (str, datetime)):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def format_datetime(value: datetime) -> str:
    """UTC with a numeric offset, to the second, e.g. 2015-10-21T15:41:36+00:00."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")
