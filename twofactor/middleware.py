from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from twofactor import policy


class SecondFactorRequiredMiddleware:
    """An account that must use a second factor reaches nothing but the code step (when it
    has a device) or the enrolment page (when it has none), until it has shown a code.

    After django-otp's OTPMiddleware, which tells whether this session showed one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.is_verified()
            and policy.is_required(user)
            and not self._open(request.path)
        ):
            target = "twofactor:verify" if policy.has_device(user) else "twofactor:enrol"
            next_url = request.get_full_path() if request.method == "GET" else ""
            query = f"?{urlencode({'next': next_url})}" if next_url else ""
            return redirect(reverse(target) + query)
        return self.get_response(request)

    @staticmethod
    def _open(path: str) -> bool:
        open_paths = (
            reverse("twofactor:verify"),
            reverse("twofactor:enrol"),
            reverse("admin:logout"),
            "/" + settings.STATIC_URL.lstrip("/"),
        )
        return path.startswith(open_paths)
