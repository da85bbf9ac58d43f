from django.contrib import admin


class SiteAdmin(admin.AdminSite):
    site_header = "党费项目化管理"
    site_title = "党费项目化管理"
    index_title = "工作台"
    index_template = "admin/dashboard.html"
    # The admin is the whole application: no public site to link to, and the wide
    # changelists (amounts, grades, deadlines) need the room the navigation sidebar takes.
    site_url = None
    enable_nav_sidebar = False

    def has_permission(self, request) -> bool:
        # Any active staff user holding a role may use the back-office.
        return request.user.is_active and request.user.is_staff

    def index(self, request, extra_context=None):
        from projects.dashboard import build_dashboard

        extra_context = {**(extra_context or {}), "dashboard": build_dashboard(request.user)}
        return super().index(request, extra_context)
