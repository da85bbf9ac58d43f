"""Views of the running area, under /admin/ (staff login, scoped by Project.objects.visible_to)."""

urlpatterns: list = []
