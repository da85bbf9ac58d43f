"""The one parser of date input, and the one way dates and months are shown (Beijing time).

Accepted: 2026年12月10日, 2026-12-10, 2026/12/10, 2026.12.10, 20261210 (month and day may
have one digit: 2026-1-5, 2026年1月5日), full-width digits too.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils import timezone

from projects.money import normalise_text

DATE_EXAMPLE = "2026-12-10 或 2026年12月10日"
_DATE_RE = re.compile(
    r"([0-9]{4})(?:[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})|年([0-9]{1,2})月([0-9]{1,2})日?)"
)
_COMPACT_RE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_MONTH_RE = re.compile(r"([0-9]{4})(?:[-/.]([0-9]{1,2})|年([0-9]{1,2})月?)")


def parse_date(value, label: str = "日期") -> datetime.date:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, datetime.date):
        return value
    text = normalise_text(value)
    if not text:
        raise ValidationError(f"请填写{label}。")
    match = _DATE_RE.fullmatch(text)
    if match:
        year, month, day = (
            match.group(1),
            match.group(2) or match.group(4),
            match.group(3) or match.group(5),
        )
    else:
        match = _COMPACT_RE.fullmatch(text)
        if match is None:
            raise ValidationError(f"{label}“{value}”不是有效的日期,请按 {DATE_EXAMPLE} 填写。")
        year, month, day = match.groups()
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError:
        raise ValidationError(f"{label}“{value}”不是有效的日期(该月份或日期不存在)。") from None


def parse_month(value, label: str = "月份") -> datetime.date:
    """A month (2026-09, 2026年9月, or any date in it) as its first day."""
    if isinstance(value, datetime.date):
        return value.replace(day=1)
    text = normalise_text(value)
    match = _MONTH_RE.fullmatch(text)
    if match:
        month = int(match.group(2) or match.group(3))
        if 1 <= month <= 12:
            return datetime.date(int(match.group(1)), month, 1)
        raise ValidationError(f"{label}“{value}”不存在。")
    return parse_date(value, label).replace(day=1)


def format_date(value) -> str:
    """The one display format for a date: 2026年12月10日."""
    if value is None:
        return "—"
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.year}年{value.month}月{value.day}日"


def format_datetime(value) -> str:
    """A moment as a person in Beijing reads it: 2026年3月3日 07:30."""
    if value is None:
        return "—"
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def format_month(value) -> str:
    """The one display format for a report month: 2026年9月."""
    if value is None:
        return "—"
    return f"{value.year}年{value.month}月"
