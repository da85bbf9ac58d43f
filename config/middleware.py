"""A database that goes away mid-request (restart, failover, network cut) must not show the
user a 500: the transaction was rolled back as a whole (every state and money change runs in
one atomic block), so the honest answer is "nothing was done, try again" with a 503.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.template import loader
from django.views import defaults

logger = logging.getLogger("dangfei.database")

DATABASE_ERRORS = (OperationalError, InterfaceError)
UNAVAILABLE_MESSAGE = "数据库暂时不可用,操作未执行,请稍后重试。"
RETRY_AFTER_SECONDS = 30


def database_unavailable_response() -> HttpResponse:
    # Rendered without the request: no context processor may touch the lost database.
    body = loader.render_to_string("503.html", {"message": UNAVAILABLE_MESSAGE})
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Answers 503 (Chinese page, Retry-After) when the view lost its database connection."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            logger.error("数据库连接中断:%s %s", request.method, request.path, exc_info=exception)
            return database_unavailable_response()
        return None


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    """handler500: a database lost inside another middleware (session save, …) is still a 503;
    anything else is the plain Chinese 500 page."""
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_ERRORS):
        return database_unavailable_response()
    try:
        return HttpResponseServerError(loader.render_to_string(template_name))
    except Exception:  # the error page must never fail in turn
        return HttpResponseServerError("<h1>服务器内部错误</h1>", content_type="text/html")
