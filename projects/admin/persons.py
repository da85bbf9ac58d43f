"""People on a record's page as their full name in plain text (issue 11, finding 6).

A read-only foreign key to a user is drawn by the admin as a link to the user admin, which
most roles may not open (it ends in 404): 周明远(leader1) on an applicant's invoice page. The
mixin shows every user foreign key of the model as the person's display name instead.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin

from projects.admin.base import ReadOnlyInlineMixin


def _user_foreign_keys(model) -> tuple[str, ...]:
    if model is None:
        return ()
    user_label = settings.AUTH_USER_MODEL.lower()
    return tuple(
        f.name
        for f in model._meta.get_fields()
        if getattr(f, "many_to_one", False)
        and f.concrete
        and f.related_model is not None
        and f.related_model._meta.label_lower == user_label
    )


def _display(model, name):
    label = model._meta.get_field(name).verbose_name

    @admin.display(description=label, ordering=name)
    def person(obj):
        user = getattr(obj, name, None)
        return user.display_name if user is not None else "—"

    return person


class PersonNamesMixin:
    """Put first among the bases of a ModelAdmin (or an inline).

    On a change page the read-only person fields are swapped after every override has run
    (render_change_form); in the changelist the person columns are the full names (a foreign
    key's column would read 周明远(leader1)); on a read-only inline (ReadOnlyInlineMixin: every
    field read-only) its person fields are swapped once, here.
    """

    person_fields: tuple[str, ...] = ()

    def __init__(self, model, *args, **kwargs):
        super().__init__(model, *args, **kwargs)
        self.person_fields = _user_foreign_keys(self.model)
        for name in self.person_fields:
            # The admin looks a read-only name up on the ModelAdmin and calls it with the row.
            setattr(self, f"{name}_person", _display(self.model, name))
        if isinstance(self, InlineModelAdmin) and self.person_fields:
            readonly = set(self.readonly_fields)
            if isinstance(self, ReadOnlyInlineMixin):
                readonly |= set(self.fields or ())
            self.fields = self._swapped(self.fields, readonly) if self.fields else self.fields
            self.readonly_fields = self._swapped(self.readonly_fields, readonly)

    def _swapped(self, names, readonly) -> list:
        shown = {n for n in self.person_fields if n in readonly}
        return [
            self._swapped(n, readonly)
            if isinstance(n, (list, tuple))
            else f"{n}_person"
            if n in shown
            else n
            for n in names
        ]

    def get_list_display(self, request):
        return self._swapped(super().get_list_display(request), set(self.person_fields))

    def render_change_form(self, request, context, *args, **kwargs):
        # After every get_fields / get_readonly_fields override has run: swap the read-only
        # person fields of the page's form for their plain-text twins.
        adminform = context.get("adminform")
        if adminform is not None and self.person_fields:
            readonly = set(adminform.readonly_fields)
            adminform.fieldsets = [
                (title, {**options, "fields": self._swapped(options.get("fields", ()), readonly)})
                for title, options in adminform.fieldsets
            ]
            adminform.readonly_fields = self._swapped(adminform.readonly_fields, readonly)
        return super().render_change_form(request, context, *args, **kwargs)
