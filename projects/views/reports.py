"""Views of the reports area, under /admin/ (staff login, scoped by Project.objects.visible_to)."""

urlpatterns: list = []
