# 党费项目化管理: the two commands are `make demo` and `make test` (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
export DJANGO_SETTINGS_MODULE := config.settings

# Keep in step with OPTIONS in scripts/check_lock.py.
LOCK_OPTIONS := --quiet --generate-hashes --extra=dev --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links

# Every flow that stores or serves a file (uploads and downloads, import previews, export
# jobs, archive packages, generated PDFs with attachments), run with the default storage in
# memory and no MEDIA_ROOT on disk: tests/conftest.py fails a test that created it.
MEMORY_STORAGE_TESTS := tests/projects/test_documents.py tests/projects/test_money_pages.py \
	tests/projects/test_invoice_import.py tests/projects/test_import_export_admin.py \
	tests/projects/test_jobs.py tests/projects/test_jobs_workers.py tests/projects/test_archive.py \
	tests/projects/test_archive_package.py tests/projects/test_pdf_documents.py \
	tests/security/test_uploads.py tests/projects/test_import_previews.py tests/storage

.PHONY: install lock check-lock demo test test-sqlite test-postgres lint serve

# Every package at the version and hash of requirements.lock (nothing floats), then the
# project itself without resolving anything again. The project runs from this folder
# (pyproject.toml lists no packages), so a plain install records it; an editable one only
# adds a setuptools warning on every fresh install.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps .
	touch $(STAMP)

install: $(STAMP)

# After changing the dependencies in pyproject.toml: `make lock`, then commit both files.
lock: install
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile $(LOCK_OPTIONS) \
		-o requirements.lock pyproject.toml

# CI: the lock is what `make lock` would write for pyproject.toml as it is.
check-lock: install
	$(BIN)/python scripts/check_lock.py

demo: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo_data --allow-demo-accounts
	@echo "打开 http://127.0.0.1:8000/admin/ ,用上面列出的账号登录。"
	DJANGO_RUNSERVER_HIDE_WARNING=true PY=$(BIN)/python scripts/demo_serve.sh 127.0.0.1:8000

# The whole suite on the embedded SQLite, then again on PostgreSQL when one is reachable
# (TEST_DATABASE_URL, or the local server). Tests marked `postgres` (row locks, real
# concurrency) only run in the PostgreSQL pass; under CI a missing PostgreSQL is a failure.
test: install
	$(BIN)/python -m pytest -m "not postgres" -q
	@echo "== 文件相关的测试以内存存储再运行一遍(不得写本地磁盘)"
	TEST_STORAGE=memory $(BIN)/python -m pytest -m "not postgres" -q $(MEMORY_STORAGE_TESTS)
	@url="$${TEST_DATABASE_URL:-$(PG_URL)}"; \
	if $(BIN)/python scripts/db_reachable.py "$$url"; then \
		echo "== 在 PostgreSQL 上再运行一遍 ($$url)"; \
		DATABASE_URL="$$url" $(BIN)/python -m pytest -q; \
	elif [ "$${CI:-}" = "true" ]; then \
		echo "CI 中必须有 PostgreSQL,但无法连接:$$url"; exit 1; \
	else \
		echo "未找到 PostgreSQL($$url),已跳过 PostgreSQL 测试。"; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Production serving (docs/operations.md): settings from the environment (DATABASE_URL …);
# the deployment check runs first (keys in the environment, HTTPS settings) and a failure
# stops here; collectstatic must build the same hashed manifest that the server then reads.
# Background jobs (exports, reminders) need worker processes beside gunicorn, with the same
# environment: `.venv/bin/python manage.py run_worker`, one per CPU you give them, under the
# process supervisor (systemd, …); several may run on PostgreSQL (SKIP LOCKED), none is
# needed to serve pages. A killed worker's job is re-queued once by the next worker.
serve: install
	DJANGO_STATIC_MANIFEST=1 $(BIN)/python manage.py check --deploy --fail-level WARNING
	DJANGO_STATIC_MANIFEST=1 $(BIN)/python manage.py collectstatic --noinput
	DJANGO_STATIC_MANIFEST=1 exec $(BIN)/gunicorn config.wsgi:application \
		--bind $${BIND:-127.0.0.1:8000} --workers $${WEB_CONCURRENCY:-3} \
		--timeout $${GUNICORN_TIMEOUT:-60} --graceful-timeout 20 \
		--access-logfile - --error-logfile -
