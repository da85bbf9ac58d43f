#!/usr/bin/env bash
# `make demo`: the development server and one background worker beside it (我的下载,
# 后台导出, reminders). The worker stops when the server stops (Ctrl+C, or the server exits).
set -euo pipefail
PY="${PY:-.venv/bin/python}"
ADDR="${1:-127.0.0.1:8000}"

"$PY" manage.py run_worker &
worker=$!
stop_worker() {
    if kill -0 "$worker" 2>/dev/null; then
        kill -TERM "$worker" 2>/dev/null || true
        wait "$worker" 2>/dev/null || true
    fi
}
trap stop_worker EXIT INT TERM

echo "后台任务进程已启动(进程号 $worker),随开发服务器一起停止。"
"$PY" manage.py runserver "$ADDR"
