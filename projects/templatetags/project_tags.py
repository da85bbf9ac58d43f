"""Template filters for the one display format of dates and months (projects/dates.py)."""

from django import template

from projects.dates import format_date, format_datetime, format_month

register = template.Library()


@register.filter
def cn_date(value) -> str:
    """2026年12月10日"""
    return format_date(value) if value not in ("", None) else "—"


@register.filter
def cn_month(value) -> str:
    """2026年9月"""
    return format_month(value) if value not in ("", None) else "—"


@register.filter
def cn_datetime(value) -> str:
    """2026年3月3日 07:30, Beijing time"""
    return format_datetime(value) if value not in ("", None) else "—"
