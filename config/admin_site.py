from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

# Each role's menu on the dashboard (issue 11, finding 9): the lists its daily task uses, in
# its words, instead of every model the admin knows. A link is drawn only when the admin's
# own permission check passed (the entry is in get_app_list) and the role needs it.
ROLE_MENU = {
    "applicant": [
        ("Project", "我的项目申请", "新建项目申请"),
        ("ProgressReport", "月度进展报告", "填报进展报告"),
        ("ChangeRequest", "变更申请", "提出变更申请"),
        ("ProblemReport", "问题上报", "上报问题"),
        ("SummaryReport", "总结报告", ""),
        ("Invoice", "发票", ""),
        ("Document", "附件", ""),
    ],
    "org_reviewer": [
        ("Project", "本组织的项目", "新建项目申请"),
        ("ProgressReport", "进展报告", ""),
        ("ProblemReport", "问题上报", ""),
        ("ChangeRequest", "变更申请", ""),
        ("SummaryReport", "总结报告", ""),
        ("Invoice", "发票", ""),
    ],
    "leadership": [
        ("Project", "全部项目", ""),
        ("ChangeRequest", "变更申请", ""),
        ("ProblemReport", "问题上报", ""),
        ("SummaryReport", "总结报告", ""),
        ("FundingPolicy", "年度经费政策", ""),
        ("ProhibitedItem", "禁止列支事项", ""),
    ],
    "finance": [
        ("Invoice", "发票审核", ""),
        ("Disbursement", "拨付记录", ""),
        ("Project", "项目", ""),
    ],
    "auditor": [
        ("Project", "全部项目", ""),
        ("Invoice", "发票", ""),
        ("Disbursement", "拨付记录", ""),
        ("ProgressReport", "进展报告", ""),
    ],
}
# Every role's own background exports (我的下载, projects/admin/jobs.py).
for _menu in ROLE_MENU.values():
    _menu.append(("BackgroundJob", "我的下载", ""))

# Pages beside the model lists, for the roles that see every organisation.
GLOBAL_PAGES = [("projects:report_year", "年度统计"), ("projects:pool_ledger_current", "经费总账")]


class SiteAdmin(admin.AdminSite):
    site_header = "党费项目化管理"
    site_title = "党费项目化管理"
    index_title = "工作台"
    index_template = "admin/dashboard.html"
    # The admin is the whole application: no public site to link to, and the wide
    # changelists (amounts, grades, deadlines) need the room the navigation sidebar takes.
    site_url = None
    enable_nav_sidebar = False
    # An empty field reads as empty dates and amounts do (project_tags.cn_date), not "-".
    empty_value_display = "—"

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

        extra_context = {
            **(extra_context or {}),
            "dashboard": build_dashboard(request.user),
            "role_menu": self.role_menu(request),
        }
        return super().index(request, extra_context)

    def role_menu(self, request) -> list[dict]:
        """The user's menu: for each of their roles the lists it uses (permission-checked)."""
        from accounts.roles import Role, sees_everything

        models = {
            model["object_name"]: model
            for app in self.get_app_list(request)
            for model in app["models"]
        }
        user = request.user
        roles = list(ROLE_MENU) if user.is_superuser else sorted(user.role_names)
        entries, seen = [], set()
        for role in roles:
            for object_name, label, add_label in ROLE_MENU.get(role, []):
                model = models.get(object_name)
                if model is None or object_name in seen or not model.get("admin_url"):
                    continue
                seen.add(object_name)
                entries.append(
                    {
                        "label": label,
                        "url": model["admin_url"],
                        "add_label": add_label,
                        "add_url": (model.get("add_url") or "") if add_label else "",
                    }
                )
        if sees_everything(user) and user.has_perm("projects.view_project"):
            entries += [{"label": label, "url": reverse(name)} for name, label in GLOBAL_PAGES]
        labels = "、".join(Role(r).label for r in roles if r in Role.values)
        return [{"title": f"常用功能({labels})" if labels else "常用功能", "entries": entries}]
