"""The PDF downloads (staff, scoped: another organisation's project is a 404) and the public
verification page /verify/<token>/ (no login; shows only what the document itself shows)."""

from django.contrib import admin
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from projects.documents import verification
from projects.documents.kinds import Kind, Subject, build_context
from projects.downloads import protect_download
from projects.models import Project

PROJECT_KINDS = {
    "application": Kind.APPLICATION,
    "acceptance": Kind.ACCEPTANCE,
    "final-accounts": Kind.FINAL_ACCOUNTS,
    "settlement": Kind.SETTLEMENT,
}


def _project(request, pk: int) -> Project:
    projects = Project.objects.visible_to(request.user).select_related(
        "organization", "leader", "payment_approved_by"
    )
    return get_object_or_404(projects, pk=pk)


def pdf_url(kind: str, project=None, *, organization_id=None, year=None) -> str:
    if kind == Kind.DISCLOSURE:
        return reverse("projects:disclosure_pdf", args=[year, organization_id])
    slug = next(s for s, k in PROJECT_KINDS.items() if k == kind)
    return reverse(f"projects:{slug.replace('-', '_')}_pdf", args=[project.pk])


def print_verification(
    request, kind: str, context: dict, *, project=None, organization=None, year=None
) -> dict:
    """For a print page: issue (or reuse) the version it shows; add its QR and PDF link."""
    subject = Subject(kind, project=project, organization=organization, year=year)
    context["verification"] = verification.issue(subject, context, request=request)
    context["pdf_url"] = pdf_url(
        kind, project, organization_id=getattr(organization, "pk", None), year=year
    )
    return context


def _pdf_response(request, subject: Subject) -> HttpResponse:
    from projects.documents.pdf import render_document

    name, body = render_document(subject, request=request, user=request.user)
    return protect_download(HttpResponse(body, content_type="application/pdf"), name)


def document_pdf(request, pk: int, slug: str):
    kind = PROJECT_KINDS[slug]  # from the URL table, never from the visitor
    project = _project(request, pk)
    return _pdf_response(request, Subject(kind, project=project))


def disclosure_pdf(request, year: int, organization_id: int):
    from accounts.models import Organization
    from projects.views.reports import _require_view, _year

    _require_view(request)
    year = _year(request, year)
    organization = get_object_or_404(
        Organization.objects.visible_to(request.user), pk=organization_id
    )
    return _pdf_response(request, Subject(Kind.DISCLOSURE, organization=organization, year=year))


def acceptance_print(request, pk: int):
    project = _project(request, pk)
    context = build_context(Subject(Kind.ACCEPTANCE, project=project))
    print_verification(request, Kind.ACCEPTANCE, context, project=project)
    return render(request, "projects/print/acceptance.html", context)


# --- public -------------------------------------------------------------------------------


@require_safe
@never_cache
def verify_document(request, token: str):
    verdict = verification.verify(token)
    status = 404 if verdict.status == verification.INVALID else 200
    return render(
        request,
        "projects/documents/verify.html",
        {
            "verdict": verdict,
            "GENUINE": verification.GENUINE,
            "SUPERSEDED": verification.SUPERSEDED,
        },
        status=status,
    )


urlpatterns = [
    # One address a document (no free <slug>: every parameter of a URL names an object).
    *[
        path(
            f"projects/project/<int:pk>/documents/{slug}/pdf/",
            admin.site.admin_view(document_pdf),
            {"slug": slug},
            name=f"{slug.replace('-', '_')}_pdf",
        )
        for slug in PROJECT_KINDS
    ],
    path(
        "projects/project/<int:pk>/acceptance/print/",
        admin.site.admin_view(acceptance_print),
        name="acceptance_print",
    ),
    path(
        "reports/<int:year>/disclosure/<int:organization_id>/pdf/",
        admin.site.admin_view(disclosure_pdf),
        name="disclosure_pdf",
    ),
]

# Mounted at the site root by config/urls.py: open without logging in.
public_urlpatterns = [
    path("verify/<str:token>/", verify_document, name="verify_document"),
]
