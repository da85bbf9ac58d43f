"""Template filters for money: the one formatter (format_cny) and the one 大写 writer."""

from django import template

from projects.money import format_cny, to_chinese_capital

register = template.Library()


@register.filter
def cny(value) -> str:
    return format_cny(value)


@register.filter
def capital(value) -> str:
    return to_chinese_capital(value or 0)
