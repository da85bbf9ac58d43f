"""Import/export mixins for the ModelAdmins (issue 6 fills them; the admins already
inherit them so that wiring them needs no change elsewhere)."""


class OrganizationImportExportMixin:
    pass


class UserImportExportMixin:
    pass


class ProjectImportExportMixin:
    pass


class DisbursementImportExportMixin:
    pass


class InvoiceImportExportMixin:
    pass
