"""Settings, all from environment variables (see README: 生产部署).

Defaults give a working embedded set-up: SQLite at var/db.sqlite3, DEBUG off unless
DJANGO_DEBUG is set, console e-mail.
"""

import datetime
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.keys import key

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Keys come from the environment; without it (demo, tests) from files generated once under
# var/. No key is committed; `check --deploy` fails unless all three (this one,
# HISTORY_HMAC_KEY and DOCUMENT_VERIFY_KEY below) are in the environment (config/keys.py).
SECRET_KEY = key("DJANGO_SECRET_KEY", BASE_DIR / "var")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Key for the history chain's HMAC (DESIGN.md §6 verify_history). It lives outside the
# database so that write access to the database alone cannot re-forge the chain.
HISTORY_HMAC_KEY = key("HISTORY_HMAC_KEY", BASE_DIR / "var")
# The current key's id, stored on every row, and earlier keys by id ("k1=…,k2=…"), so that
# the key can be rotated without breaking the rows signed before.
HISTORY_HMAC_KEY_ID = env.str("HISTORY_HMAC_KEY_ID", default="k1")
HISTORY_HMAC_OLD_KEYS = env.dict("HISTORY_HMAC_OLD_KEYS", default={})
# Key for the verification codes (QR) on printed documents (projects/documents): a key of its
# own, so that neither key can stand in for the other; also kept out of the database.
DOCUMENT_VERIFY_KEY = key("DOCUMENT_VERIFY_KEY", BASE_DIR / "var")
# The address the QR leads to, e.g. https://dangfei.example.org (default: the request's host).
DOCUMENT_VERIFY_BASE_URL = env.str("DOCUMENT_VERIFY_BASE_URL", default="")

INSTALLED_APPS = [
    "config.apps.SiteAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_fsm",
    "import_export",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "accounts",
    "projects",
    # After accounts: its admin module extends the user admin with the second factor.
    "twofactor",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A lost database connection becomes a Chinese 503 page ("操作未执行"), never a 500.
    "config.middleware.DatabaseUnavailableMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): did this session show a second-factor code?
    "django_otp.middleware.OTPMiddleware",
    # The roles of TWO_FACTOR_REQUIRED_ROLES reach only the code step or the enrolment page.
    "twofactor.middleware.SecondFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a writer instead of failing at once ("database is locked").
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if "postgresql" in DATABASES["default"]["ENGINE"]:
        # No JIT: the pages' queries are short, but the planner's estimates for the list's
        # correlated subqueries (risk flags) pass jit_above_cost, and compiling them took
        # ~2 s of a 2.7 s invoice list at city scale (bench/README.md).
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "admin:login"

# Login throttling (django-axes): five failures for one username from one address lock that
# combination for 30 minutes; a success clears the count. Only requests over HTTP are
# throttled (see config.auth), so the test client and management commands are unaffected.
AUTHENTICATION_BACKENDS = [
    "config.auth.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("DJANGO_LOGIN_THROTTLE", default=True)
AXES_FAILURE_LIMIT = env.int("DJANGO_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("DJANGO_LOGIN_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.auth.lockout_response"
# Unlock with `manage.py axes_reset_username <账号>` (docs/operations.md); axes' own admin
# pages are English-only, so they stay off the Chinese back-office.
AXES_ENABLE_ADMIN = False
# Behind a reverse proxy (DJANGO_PROXY_COUNT=1 …) the client address is taken from
# X-Forwarded-For as the proxy sets it; directly on the network, from the socket.
AXES_IPWARE_PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", default=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if AXES_IPWARE_PROXY_COUNT else ("REMOTE_ADDR",)
)

# Second factor (TOTP, django-otp; see twofactor/): who must use one is set here, from the
# environment: role group names of accounts.roles and `superuser`, comma-separated. Anyone
# else may enrol voluntarily. An empty value makes it voluntary for everyone.
TWO_FACTOR_REQUIRED_ROLES = env.list(
    "DJANGO_2FA_REQUIRED_ROLES", default=["leadership", "finance", "superuser"]
)
OTP_TOTP_ISSUER = "党费项目化管理"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "config.auth.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
# The admin's words and the calendar's weekday headers said our way (locale/zh_Hans).
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production runs collectstatic and sets DJANGO_STATIC_MANIFEST=1 (hashed, compressed files);
# the demo and the tests serve straight from the app folders through whitenoise's finders,
# with no collected folder at all (whitenoise would warn "No directory at" on every start).
STATIC_MANIFEST = env.bool("DJANGO_STATIC_MANIFEST", default=False)
STATIC_ROOT = BASE_DIR / "staticfiles" if STATIC_MANIFEST else None
# Every file (uploads, exports, archive packages) goes through this one default storage:
# the local MEDIA_ROOT for the demo and a single server, or an S3-compatible bucket
# (DJANGO_STORAGE=s3) so that app servers keep nothing on their own disks. The bucket is
# never public: files are private objects, served only through the scoped download views.
DEFAULT_STORAGE = env.str("DJANGO_STORAGE", default="local")
if DEFAULT_STORAGE == "s3":
    DEFAULT_FILE_STORAGE_CONFIG = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("DJANGO_S3_BUCKET"),
            "endpoint_url": env.str("DJANGO_S3_ENDPOINT_URL", default="") or None,
            "access_key": env.str("DJANGO_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("DJANGO_S3_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("DJANGO_S3_REGION", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
elif DEFAULT_STORAGE == "local":
    DEFAULT_FILE_STORAGE_CONFIG = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ImproperlyConfigured("DJANGO_STORAGE 只能是 local 或 s3。")
STORAGES = {
    "default": DEFAULT_FILE_STORAGE_CONFIG,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
# Uploaded documents: outside any URL; served only through the scoped download view.
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 26_214_400

EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env.str("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="dangfei@localhost")

# Security: strict in production (DJANGO_DEBUG off), relaxed for the local demo over http.
SECURE_HTTPS = env.bool("DJANGO_SECURE_HTTPS", default=False)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = SECURE_HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if SECURE_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = SECURE_HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_HTTPS else None
# DJANGO_SECURE_HTTPS=0 set explicitly says "plain HTTP on purpose" (a loopback smoke test,
# a closed network): `check --deploy` then does not warn about what that choice implies.
# Left unset, the warnings stand and `make serve` refuses to start.
if env.str("DJANGO_SECURE_HTTPS", default="").strip().lower() in ("0", "false", "no", "off"):
    SILENCED_SYSTEM_CHECKS = ["security.W004", "security.W008", "security.W012", "security.W016"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Content security policy (django-csp): only this site's own files run or style the page; no
# inline script, no eval, no framing, forms post only here. The Django admin works under it.
# The one exception is django-import-export's export page, whose "select all" checkbox has an
# inline handler and two inline style attributes: each is allowed by its exact hash only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": [
            "'self'",
            "'unsafe-hashes'",
            "'sha256-wid4zL8fR53ZYy1ljOepzR77Dn6vWUUxuNnnWWBP3I8='",
        ],
        "style-src": [
            "'self'",
            "'unsafe-hashes'",
            "'sha256-mHgUAqxc8GPXM/QhzkHrHujcrQTU9fd6ZjWz+icxKcA='",
            "'sha256-+YWRMZ88jMyO7jVlBA52tZADiPobPIUA8LAWee68Fvs='",
        ],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Background jobs (issue 13): django-tasks with its database backend. Tasks are rows in the
# application's database, taken by `manage.py run_worker` processes (SELECT … FOR UPDATE
# SKIP LOCKED on PostgreSQL, so several workers share the queue); no extra server.
TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}

# Regulation 三(二)2: the project department completes the first review within one week.
ORG_REVIEW_DAYS = env.int("ORG_REVIEW_DAYS", default=7)

# django-import-export: only users with the model's "import"/"export" permission may use it.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# The preview between 预览 and 确认导入 lives in the database, not in one server's /tmp.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "projects.exchange.tmp_storage.DatabaseTmpStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="WARNING")},
}
