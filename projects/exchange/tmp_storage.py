"""django-import-export's preview file, kept in the database (IMPORT_EXPORT_TMP_STORAGE_CLASS).

Its default, TempFolderStorage, leaves the upload in the app server's /tmp between 预览 and
确认导入, so a confirm that reaches another process behind the load balancer finds nothing.
Here the bytes go into an ImportPreview row under a random token bound to the requesting
user (set by the admin mixin through `acting_user` for the duration of the request), so
any process on the same database can confirm, and only the user who previewed.
"""

import contextlib
import contextvars

from import_export.tmp_storages import BaseStorage

from projects.models import ImportPreview
from projects.services.previews import preview_discard, preview_read, preview_save

_user = contextvars.ContextVar("import_preview_user", default=None)


@contextlib.contextmanager
def acting_user(user):
    reset = _user.set(user)
    try:
        yield
    finally:
        _user.reset(reset)


class DatabaseTmpStorage(BaseStorage):
    KIND = ImportPreview.Kind.TABLE

    def _user(self):
        user = _user.get()
        return user if user is not None and user.is_authenticated else None

    def save(self, data):
        if isinstance(data, str):
            data = data.encode(self.encoding or "utf-8")
        self.name = preview_save(kind=self.KIND, user=self._user(), data=data)

    def read(self):
        data = preview_read(kind=self.KIND, token=self.name or "", user=self._user())
        if data is None:
            # Unknown, expired or another user's token: the confirm step fails cleanly.
            raise FileNotFoundError(self.name)
        return data if "b" in self.read_mode else data.decode(self.encoding or "utf-8")

    def remove(self):
        preview_discard(kind=self.KIND, token=self.name or "", user=self._user())
