"""The site's URLs plus two test-only views: one whose database is gone, and a bare
transition endpoint (POST → services.apply_transition) to cut the database under."""

from django.contrib import admin
from django.db import OperationalError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path

from config.urls import handler500  # noqa: F401
from config.urls import urlpatterns as site_urlpatterns
from projects.models import Project
from projects.services import WorkflowError, apply_transition


def database_gone(request):
    raise OperationalError("server closed the connection unexpectedly")


def transition(request, pk, name):
    project = get_object_or_404(Project.objects.visible_to(request.user), pk=pk)
    decision = {key: value for key, value in request.POST.items() if key != "csrfmiddlewaretoken"}
    for key in list(decision):
        if key.startswith("cond_"):
            decision[key] = decision[key] == "on"
    try:
        apply_transition(project, name, actor=request.user, **decision)
    except WorkflowError as exc:
        return HttpResponse("；".join(exc.messages), status=409)
    return redirect(f"/admin/projects/project/{pk}/change/")


urlpatterns = [
    path("test-faults/database-gone/", database_gone),
    path("test-faults/<int:pk>/<str:name>/", admin.site.admin_view(transition)),
    *site_urlpatterns,
]
