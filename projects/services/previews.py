"""import previews: the one writer and reader of ImportPreview rows (projects.models.previews).

`preview_save` stores an upload (or, for invoices, the rows validated from it) under a
fresh random token bound to the user (and project); `preview_read` / `preview_get` return it
only to that user, for that project, before it expires; `preview_discard` removes it once
confirmed, `preview_claim` inside the confirm's transaction (used once). Expired rows are
purged on every save.
"""

import datetime
import secrets

from django.utils import timezone

from projects.models import ImportPreview

PREVIEW_TTL = datetime.timedelta(hours=2)


def preview_save(*, kind: str, user, data: bytes, project=None, meta: dict | None = None) -> str:
    now = timezone.now()
    ImportPreview.objects.filter(expires_at__lt=now).delete()
    token = secrets.token_hex(32)
    ImportPreview.objects.create(
        token=token,
        kind=kind,
        user=user if user is not None and user.is_authenticated else None,
        project=project,
        data=bytes(data),
        meta=meta or {},
        expires_at=now + PREVIEW_TTL,
    )
    return token


def _scope(*, kind: str, token: str, user, project=None):
    rows = ImportPreview.objects.filter(
        kind=kind, token=token or "", expires_at__gte=timezone.now()
    )
    rows = rows.filter(user=user) if user is not None else rows.filter(user__isnull=True)
    if kind == ImportPreview.Kind.INVOICES:
        rows = rows.filter(project=project)
    return rows


def preview_read(*, kind: str, token: str, user, project=None) -> bytes | None:
    """The stored bytes, or None when the token is unknown, expired or someone else's."""
    row = _scope(kind=kind, token=token, user=user, project=project).only("data").first()
    return None if row is None else bytes(row.data)


def preview_get(*, kind: str, token: str, user, project=None):
    """The preview row (bytes and meta), or None when unknown, expired or someone else's."""
    return _scope(kind=kind, token=token, user=user, project=project).first()


def preview_discard(*, kind: str, token: str, user, project=None) -> None:
    _scope(kind=kind, token=token, user=user, project=project).delete()


def preview_claim(*, pk: int) -> bool:
    """Delete the preview inside the caller's transaction; False if it is already gone (a
    doubled confirm waits for the first one's row lock, then finds nothing)."""
    deleted, _ = ImportPreview.objects.filter(pk=pk).delete()
    return bool(deleted)
