"""Views of the money area, under /admin/ (staff login, scoped by Project.objects.visible_to)."""

urlpatterns: list = []
