#!/usr/bin/env bash
# 恢复:把 scripts/backup.sh 生成的备份恢复到一个**空**数据库和上传文件目录,然后核验审批历史。
# 用法:DATABASE_URL=postgres://…/空库 DJANGO_MEDIA_ROOT=/srv/dangfei/media \
#       HISTORY_HMAC_KEY=(备份时的同一个密钥) scripts/restore.sh 备份目录
set -euo pipefail

backup="${1:?用法:scripts/restore.sh 备份目录}"
: "${DATABASE_URL:?请设置 DATABASE_URL(指向一个空的 PostgreSQL 数据库)}"
root="$(cd "$(dirname "$0")/.." && pwd)"
media="${DJANGO_MEDIA_ROOT:-$root/var/media}"
python="${PYTHON:-$root/.venv/bin/python}"

(cd "$backup" && sha256sum --check --quiet SHA256SUMS) || { echo "备份文件校验失败:$backup" >&2; exit 1; }

tables=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [ "$tables" != "0" ]; then
  echo "目标数据库不是空的(public 中有 $tables 张表),拒绝覆盖。请新建一个空库。" >&2
  exit 1
fi
if [ -d "$media" ] && [ -n "$(ls -A "$media")" ]; then
  echo "上传文件目录不是空的:$media,拒绝覆盖。" >&2
  exit 1
fi

# One transaction: a restore that fails half-way leaves the database empty, not half-filled.
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction \
  --dbname="$DATABASE_URL" "$backup/db.dump"
mkdir -p "$media"
tar -C "$media" -xzf "$backup/media.tar.gz"

# The chain only verifies with the key the rows were signed with.
(cd "$root" && "$python" manage.py verify_history)
echo "恢复完成:数据库与上传文件已恢复,审批历史核验通过。"
