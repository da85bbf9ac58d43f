"""Settings for the load test's server only (bench/loadtest.py): the product's settings
unchanged, with bench.urls as the URL conf, so that one gunicorn serves the product under
/admin/ and the bare admin under /bare-load/ through the very same middleware (sessions,
second factor, axes, CSP, whitenoise). Production never names this module."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
