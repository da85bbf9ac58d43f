"""The one way to restrict rows to what a user may see (DESIGN.md §5, STYLE.md "Scoping").

Applicants and org reviewers see their own organisation's rows; leadership, finance and
auditors (and superusers) see everything. A queryset opts in by naming the lookup from its
model to the owning organisation; every ModelAdmin, export and download view filters through
`visible_to(user)`, so another organisation's object simply does not exist for the user (404).
"""

from django.db import models


class ScopedQuerySet(models.QuerySet):
    # Lookup path from the model to accounts.Organization ("pk" for Organization itself).
    scope_organization_field: str = "organization"

    def visible_to(self, user) -> "ScopedQuerySet":
        from accounts.roles import sees_everything

        if not user or not user.is_authenticated or not user.is_active:
            return self.none()
        if sees_everything(user):
            return self
        if user.organization_id is None:
            return self.none()
        return self.filter(**{self.scope_organization_field: user.organization_id})
