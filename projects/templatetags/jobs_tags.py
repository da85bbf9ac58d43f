"""后台导出 on the invoice and project changelists (issue 13): a POST form that starts the
export job for the changelist's current filters and lands on 我的下载."""

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import format_html

from projects.views.jobs import EXPORTS

register = template.Library()


@register.simple_tag(takes_context=True)
def background_export_button(context):
    opts = context.get("opts")
    request = context.get("request")
    changelist = context.get("cl")
    if opts is None or request is None or opts.app_label != "projects":
        return ""
    if opts.model_name not in EXPORTS or not context.get("has_export_permission"):
        return ""
    action = reverse(f"projects:{opts.model_name}_background_export")
    query = changelist.get_query_string() if changelist is not None else ""
    return format_html(
        '<li><form method="post" action="{}{}" class="job-export-form">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<button type="submit" class="job-export-button">后台导出</button></form></li>',
        action,
        query,
        get_token(request),
    )
