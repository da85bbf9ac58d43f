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


@register.simple_tag
def money_permissions(project, user) -> dict:
    """What the project page's money links may offer this user (issue 11, finding 6): a
    link is drawn only when the permission behind it passes."""
    from projects import permissions as perm

    return {
        "enter_invoices": perm.may_enter_invoices(project, user)
        and user.has_perm("projects.add_invoice"),
        "import_invoices": perm.may_enter_invoices(project, user)
        and user.has_perm("projects.import_invoice"),
        "record_disbursement": perm.may_record_disbursement(project, user),
    }
