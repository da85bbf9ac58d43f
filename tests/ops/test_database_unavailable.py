"""A lost database connection is a Chinese 503 ("操作未执行"), never a 500 (any database)."""

import sys

import pytest
from django.db import InterfaceError, OperationalError
from django.test import RequestFactory

from config.middleware import UNAVAILABLE_MESSAGE, server_error


@pytest.mark.urls("tests.ops.urls_faults")
@pytest.mark.django_db
def test_a_view_that_loses_the_database_answers_503_in_chinese(client, leader):
    client.force_login(leader)
    response = client.get("/test-faults/database-gone/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert UNAVAILABLE_MESSAGE in page
    assert "数据库暂时不可用,操作未执行,请稍后重试" in page


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_database_error_outside_the_view_is_still_a_503(error):
    request = RequestFactory().get("/admin/")
    try:
        raise error("connection already closed")
    except error:
        response = server_error(request)
    assert response.status_code == 503
    assert UNAVAILABLE_MESSAGE in response.content.decode()


def test_any_other_error_is_the_chinese_500_page():
    request = RequestFactory().get("/admin/")
    try:
        raise ValueError("boom")
    except ValueError:
        assert sys.exc_info()[0] is ValueError
        response = server_error(request)
    assert response.status_code == 500
    assert "服务器内部错误" in response.content.decode()
