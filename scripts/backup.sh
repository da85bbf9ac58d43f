#!/usr/bin/env bash
# 备份:数据库(pg_dump 自定义格式)+ 上传文件目录,写入一个带时间戳的目录,并记录校验和。
# 用法:DATABASE_URL=postgres://… DJANGO_MEDIA_ROOT=/srv/dangfei/media scripts/backup.sh [目标目录]
# HISTORY_HMAC_KEY 不在备份中:它与数据库分开保管(见 docs/operations.md)。
set -euo pipefail

: "${DATABASE_URL:?请设置 DATABASE_URL(postgres://…)}"
case "$DATABASE_URL" in
  postgres://*|postgresql://*) ;;
  *) echo "备份脚本只支持 PostgreSQL:DATABASE_URL=$DATABASE_URL" >&2; exit 2 ;;
esac
root="$(cd "$(dirname "$0")/.." && pwd)"
media="${DJANGO_MEDIA_ROOT:-$root/var/media}"
dest="${1:-$root/backups/$(date +%Y%m%d-%H%M%S)}"

mkdir -p "$dest"
# -Fc: compressed, restorable table by table with pg_restore; no owner/grants so that it
# restores under another role name on a new server.
pg_dump --format=custom --no-owner --no-privileges --file="$dest/db.dump" "$DATABASE_URL"
if [ -d "$media" ]; then
  tar -C "$media" -czf "$dest/media.tar.gz" .
else
  tar -czf "$dest/media.tar.gz" --files-from /dev/null
fi
(cd "$dest" && sha256sum db.dump media.tar.gz > SHA256SUMS)
echo "备份完成:$dest"
