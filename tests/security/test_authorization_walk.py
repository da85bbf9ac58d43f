"""Every admin URL and every custom page, as every role, on objects of the user's own
organisation and of another one (DESIGN.md §5).

The walk is built at collection time from admin.site._registry (each ModelAdmin's
get_urls(): changelist, add, change, delete, history and any custom URL such as the
transition forms) and from projects.urls, so later pages are walked without being listed.

For each request the expected status follows the rules:
- anonymous: redirected to the login page;
- another organisation's object, for a role scoped to its own organisation: exactly what a
  non-existent id gets (404 where the role may open that page at all), never its data;
- otherwise: 200 where the ModelAdmin grants the page, else 403; the admin never grants more
  than the role's model permissions (accounts.roles.ROLE_PERMISSIONS), and the auditor is
  granted nothing that changes data;
- never a 500; a scoped user's page never shows organisation B's names or values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from projects.services import TRANSITIONS
from tests.security.world import OTHER_MARKERS, ROLES, SCOPED_ROLES, World, build_world

STANDARD = {"changelist", "add", "change", "delete", "history"}
MISSING_PK = 987654321
OBJECT_PARAMS = ("object_id", "pk", "id")


def admin_entries():
    """(id, ModelAdmin) for every registered admin, sorted for stable test ids."""
    entries = [
        (f"{model._meta.app_label}.{model._meta.model_name}", model_admin)
        for model, model_admin in admin.site._registry.items()
    ]
    return sorted(entries, key=lambda entry: entry[0])


ADMINS = admin_entries()


@dataclass
class Page:
    kind: str  # changelist/add/change/delete/history/redirect or the custom URL's name
    route: str  # the admin-relative route, with <…> placeholders
    params: list[str]


def admin_pages(model_admin) -> list[Page]:
    opts = model_admin.model._meta
    standard_names = {f"{opts.app_label}_{opts.model_name}_{kind}": kind for kind in STANDARD}
    pages = []
    for pattern in model_admin.get_urls():
        route = str(pattern.pattern)
        name = pattern.name or "redirect"
        kind = standard_names.get(name, name)
        params = re.findall(r"<(?:\w+:)?(\w+)>", route)
        pages.append(Page(kind, route, params))
    return pages


def fill(route: str, values: dict[str, object]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)


def login(client: Client, world: World, role: str) -> None:
    if role != "anonymous":
        client.force_login(world.users[role])


def request_as(world: World, role: str):
    request = RequestFactory().get("/admin/")
    request.user = world.users[role]
    return request


def assert_no_leak(response, role: str, where: str) -> None:
    if role not in SCOPED_ROLES or response.status_code != 200:
        return
    # Downloads (FileResponse) stream their body; read it all the same.
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    body = raw.decode(errors="replace")
    leaked = [marker for marker in OTHER_MARKERS if marker in body]
    assert not leaked, f"{where}: 另一组织的数据出现在页面中:{leaked}"


def model_level(model_admin, kind: str, request) -> bool:
    if kind == "add":
        return model_admin.has_add_permission(request)
    if kind == "delete":
        return model_admin.has_delete_permission(request)
    return model_admin.has_view_or_change_permission(request)


def object_level(model_admin, kind: str, request, obj) -> bool:
    if kind == "delete":
        return model_admin.has_delete_permission(request, obj)
    return model_admin.has_view_or_change_permission(request, obj)


def check_role_grants(model_admin, world: World, role: str, obj) -> None:
    """The admin never grants more than the role's model permissions; auditors change nothing."""
    user = world.users[role]
    if user.is_superuser:
        return
    request = request_as(world, role)
    opts = model_admin.model._meta

    def perm(action):
        return user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")

    if model_admin.has_add_permission(request):
        assert perm("add") and role != "auditor", f"{role} 不应能新增 {opts.label}"
    for candidate in (None, obj):
        if model_admin.has_change_permission(request, candidate):
            assert perm("change") and role != "auditor", f"{role} 不应能修改 {opts.label}"
        if model_admin.has_delete_permission(request, candidate):
            assert perm("delete") and role != "auditor", f"{role} 不应能删除 {opts.label}"
        if model_admin.has_view_permission(request, candidate):
            assert perm("view") or perm("change"), f"{role} 不应能查看 {opts.label}"


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("label", "model_admin"), ADMINS, ids=[label for label, _ in ADMINS])
def test_admin_pages_as_every_role(label, model_admin, role):
    world = build_world()
    model = model_admin.model
    client = Client()
    login(client, world, role)
    scoped = role in SCOPED_ROLES and bool(_scoped_model(model))
    own = world.object_for(model, "own")
    other = world.object_for(model, "other") if _scoped_model(model) else None
    if role != "anonymous":
        check_role_grants(model_admin, world, role, own)
    problems = []
    prefix = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"

    for page in admin_pages(model_admin):
        for side, obj in _sides(page, own, other):
            for values in _param_values(page, obj, world, side):
                url = prefix + fill(page.route, values)
                response = client.get(url)
                where = f"GET {url} ({role}, {side})"
                status = response.status_code
                if status >= 500:
                    problems.append(f"{where}: {status}")
                    continue
                try:
                    assert_no_leak(response, role, where)
                except AssertionError as exc:
                    problems.append(str(exc).splitlines()[0])
                expected = _expected(model_admin, page, role, side, obj, world, scoped)
                if expected is not None and status not in expected:
                    problems.append(f"{where}: 得到 {status},应为 {sorted(expected)}")
                if side == "other" and scoped:
                    missing = client.get(
                        prefix + fill(page.route, {**values, **_ids(page, MISSING_PK)})
                    )
                    if missing.status_code != status:
                        problems.append(
                            f"{where}: {status} 与不存在的对象({missing.status_code})不同"
                        )
    assert not problems, "\n".join(problems)


def _scoped_model(model) -> str | None:
    from tests.security.world import scope_field

    return scope_field(model)


def _is_object_param(param: str) -> bool:
    """The object id itself, or another model's id in the route (`project_pk`, `org_pk`)."""
    return param in OBJECT_PARAMS or param.endswith(("_pk", "_id"))


def _sides(page: Page, own, other):
    if not any(_is_object_param(p) for p in page.params):
        return [("model", None)]
    sides = [("own", own)]
    if other is not None:
        sides.append(("other", other))
    return sides


def _ids(page: Page, pk) -> dict[str, object]:
    return {p: pk for p in page.params if _is_object_param(p)}


def _param_values(page: Page, obj, world: World, side: str):
    base = {p: obj.pk for p in page.params if p in OBJECT_PARAMS} if obj is not None else {}
    for param in page.params:
        if param not in OBJECT_PARAMS and _is_object_param(param):
            # A related object's id (e.g. the project a payment is recorded for): the same
            # organisation's row as the page's own object.
            base[param] = world.object_for(_model_for(page.route, param), side).pk
    extra = [p for p in page.params if not _is_object_param(p)]
    if not extra:
        return [base]
    if extra == ["name"] or extra == ["transition_name"]:
        return [{**base, extra[0]: name} for name in TRANSITIONS]
    raise LookupError(f"{page.route}: 走查不知道如何填写参数 {extra},请在 _param_values 中补充")


def _expected(model_admin, page, role, side, obj, world, scoped) -> set[int] | None:
    if role == "anonymous":
        return {302}
    if page.kind == "redirect":
        return {301, 302}
    request = request_as(world, role)
    if side == "other" and scoped:
        if page.kind not in STANDARD:
            return {403, 404}  # and the same as for a missing id (checked by the caller)
        allowed = model_level(model_admin, page.kind, request)
        return {404} if allowed or page.kind == "history" else {403, 404}
    if page.kind not in STANDARD:
        # A custom page of the admin (transition forms …): its rules are its area's tests;
        # here it must answer without error, and the other organisation stays invisible.
        # 405: a POST-only step (django-import-export's process_import) refuses a GET.
        return {200, 302, 403, 405}
    if page.kind in ("changelist", "add"):
        return {200} if model_level(model_admin, page.kind, request) else {403}
    return {200} if object_level(model_admin, page.kind, request, obj) else {403}


# --- attempts to change: the auditor on its visible rows, scoped roles on another org's ----


def snapshot(model, pk):
    return model._default_manager.filter(pk=pk).values().first()


class _FormFields(HTMLParser):
    """The fields a browser would submit from the page's main form, with their values."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.text_fields: list[str] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._select_value: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields.append((name, attrs.get("value", "on" if kind == "checkbox" else "")))
            if kind == "text" and "-" not in name:
                self.text_fields.append(name)
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields.append((name, ""))
            if "-" not in name:
                self.text_fields.append(name)
        elif tag == "select" and name:
            self._select, self._select_value, self._first_option = name, None, None
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in attrs:
                self._select_value = value

    def handle_data(self, data):
        if self._textarea:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select:
            value = self._select_value if self._select_value is not None else ""
            self.fields.append((self._select, value))
            self._select = None


def valid_change_post(client: Client, url: str) -> dict | None:
    """The change form as a permitted user sees it, one text field altered: a POST that
    would change the row if the rules let it through (None: no editable form there)."""
    response = client.get(url)
    if response.status_code != 200:
        return None
    parser = _FormFields()
    parser.feed(response.content.decode())
    data: dict = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    editable = [name for name in parser.text_fields if name not in ("csrfmiddlewaretoken",)]
    if not editable or "_save" in data:
        return None
    field = editable[0]
    data[field] = [(data[field][0] or "") + "改"]
    data["_save"] = ["保存"]
    return {key: value if len(value) > 1 else value[0] for key, value in data.items()}


@pytest.mark.django_db
@pytest.mark.parametrize(("label", "model_admin"), ADMINS, ids=[label for label, _ in ADMINS])
def test_no_change_gets_through_where_the_rules_forbid_it(label, model_admin):
    """Posts a form that is valid (taken from the page a permitted user sees, proven to
    change the row when that user posts it), as the auditor on its visible rows and as
    scoped roles on another organisation's: nothing may change."""
    world = build_world()
    model = model_admin.model
    prefix = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    attempts = [("auditor", world.object_for(model, "own"))]
    if _scoped_model(model):
        other = world.object_for(model, "other")
        attempts += [("applicant", other), ("org_reviewer", other)]
    problems = []
    for role, obj in attempts:
        url = f"{prefix}{obj.pk}/change/"
        editor = Client()
        login(editor, world, _editor_for(model, obj, world))
        valid = valid_change_post(editor, url) or {"title": "改动", "name": "改动"}
        client = Client()
        login(client, world, role)
        before, count = snapshot(model, obj.pk), model._default_manager.count()
        posts = [(url, valid), (f"{prefix}{obj.pk}/delete/", {"post": "yes"})]
        if role == "auditor":
            posts.append((f"{prefix}add/", {**valid, "username": "y"}))
        for target, data in posts:
            status = client.post(target, data).status_code
            if status not in (403, 404):
                problems.append(f"POST {target} ({role}): 得到 {status},应为 403/404")
        if snapshot(model, obj.pk) != before or model._default_manager.count() != count:
            problems.append(f"{label} ({role}): 数据被改动了")
    assert not problems, "\n".join(problems)


def _editor_for(model, obj, world) -> str:
    """Who may edit this row: the superuser, or for a draft application its own org."""
    if model._meta.model_name == "project" and getattr(obj, "state", "") in ("draft", "returned"):
        return (
            "org_reviewer"
            if obj.organization_id == world.users["org_reviewer"].organization_id
            else "superuser"
        )
    return "superuser"


@pytest.mark.django_db
def test_the_posted_forms_are_valid(client):
    """The control for the walk above: the same POST, by a user who may change the row,
    does change it (so "nothing changed" there is a real result, not an invalid form)."""
    from accounts.models import Organization

    world = build_world()
    obj = world.object_for(Organization, "own")
    url = f"/admin/accounts/organization/{obj.pk}/change/"
    login(client, world, "superuser")
    data = valid_change_post(client, url)
    assert data is not None
    before = snapshot(Organization, obj.pk)
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert snapshot(Organization, obj.pk) != before


# --- the custom pages beside the admin (projects.urls) --------------------------------------


def custom_pages() -> list[Page]:
    resolver = get_resolver()
    pages = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue  # the admin site's own URLs are walked per ModelAdmin above
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and isinstance(pattern.pattern, RoutePattern):
                params = re.findall(r"<(?:\w+:)?(\w+)>", route)
                if route.startswith("admin/") and route != "admin/":
                    pages.append(Page(pattern.name or route, route, params))

    walk(resolver.url_patterns, "")
    return pages


# Short names used in routes for a model (`ledger/<year>/org/<org_pk>/`).
PARAM_ALIASES = {"org": "organization"}


def _model_for(route: str, param: str):
    from django.apps import apps

    name = param.removesuffix("_id").removesuffix("_pk")
    name = PARAM_ALIASES.get(name, name)
    if param in OBJECT_PARAMS:
        before = route.split("<", 1)[0].rstrip("/").split("/")
        name = before[-1] if before else ""
    for model in apps.get_models():
        if model._meta.model_name == name and model._meta.app_label in ("projects", "accounts"):
            return model
    raise LookupError(f"{route}: 走查不知道参数 {param} 指向哪个模型,请在 _model_for 中补充")


def _custom_values(world: World, page: Page, side: str, missing: bool = False):
    import datetime

    values: dict[str, object] = {}
    variants = [values]
    for param in page.params:
        if param == "year":
            values[param] = datetime.date.today().year
        elif param in ("name", "transition_name"):
            variants = [{**v, param: name} for v in variants for name in TRANSITIONS]
        else:
            model = _model_for(page.route, param)
            values[param] = MISSING_PK if missing else world.object_for(model, side).pk
    return [{**values, **v} for v in variants]


def _owner_of(world: World, page: Page, side: str):
    """The owner of the page's object when that object belongs to one person (its model has
    an `owner`), else None."""
    for param in page.params:
        if param in ("year", "name", "transition_name"):
            continue
        model = _model_for(page.route, param)
        if any(f.name == "owner" for f in model._meta.concrete_fields):
            return world.object_for(model, side).owner
    return None


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_custom_pages_as_every_role(role):
    world = build_world()
    client = Client()
    login(client, world, role)
    problems = []
    for page in custom_pages():
        has_object = any(p not in ("year", "name", "transition_name") for p in page.params)
        sides = ["own", "other"] if has_object else ["model"]
        for side in sides:
            for values, missing_values in zip(
                _custom_values(world, page, side),
                _custom_values(world, page, side, missing=True),
                strict=True,
            ):
                url = "/" + fill(page.route, values)
                response = client.get(url)
                status = response.status_code
                where = f"GET {url} ({role}, {side})"
                if status >= 500:
                    problems.append(f"{where}: {status}")
                    continue
                if role == "anonymous":
                    if not is_login_redirect(response):
                        problems.append(f"{where}: 未登录应转到登录页,得到 {status}")
                    continue
                try:
                    assert_no_leak(response, role, where)
                except AssertionError as exc:
                    problems.append(str(exc).splitlines()[0])
                owner = _owner_of(world, page, side)
                if owner is not None:
                    # A person's own object (a background job): for everyone else it is
                    # what a missing id is, whatever their role or organisation.
                    missing = client.get("/" + fill(page.route, missing_values)).status_code
                    if owner != world.users[role] and (status != 404 or missing != 404):
                        problems.append(f"{where}: 得到 {status}(不存在的对象 {missing}),应为 404")
                    elif owner == world.users[role] and status not in (200, 302, 403):
                        problems.append(f"{where}: 本人的对象,得到 {status}")
                    continue
                if side == "other" and role in SCOPED_ROLES:
                    missing = client.get("/" + fill(page.route, missing_values)).status_code
                    if status != 404 or missing != 404:
                        problems.append(f"{where}: 得到 {status}(不存在的对象 {missing}),应为 404")
                elif status not in (200, 302, 403):
                    problems.append(f"{where}: 得到 {status}")
    assert not problems, "\n".join(problems)
