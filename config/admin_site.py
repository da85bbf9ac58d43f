from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache


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

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request, extra_context=None):
        """AdminSite.login with the second sign-in step after the password: the same page,
        form and context, served by twofactor.views.PasswordStepLoginView."""
        from django.contrib.admin.forms import AdminAuthenticationForm

        from twofactor.views import PasswordStepLoginView

        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        context = {
            **self.each_context(request),
            "title": "登录",
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name
        return PasswordStepLoginView.as_view(
            extra_context=context,
            authentication_form=self.login_form or AdminAuthenticationForm,
            template_name=self.login_template or "admin/login.html",
        )(request)

    def index(self, request, extra_context=None):
        from projects.dashboard import build_dashboard

        extra_context = {**(extra_context or {}), "dashboard": build_dashboard(request.user)}
        return super().index(request, extra_context)
