"""The history chain: each row's digest is an HMAC over its content and the previous row's
digest (per project), keyed by HISTORY_HMAC_KEY from the environment. Someone who can write
to the database but does not hold the key cannot alter or remove a row and re-forge the chain.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass

from django.conf import settings


def _canonical(row) -> bytes:
    content = {
        "project": row.project_id,
        "seq": row.seq,
        "transition": row.transition,
        "from": row.from_state,
        "to": row.to_state,
        "actor": row.actor_id,
        "actor_name": row.actor_name,
        "actor_organization": row.actor_organization,
        "actor_title": row.actor_title,
        "actor_roles": row.actor_roles,
        "opinion": row.opinion,
        "data": row.data,
        "at": row.created_at.isoformat(timespec="microseconds"),
        "prev": row.prev_digest,
    }
    return json.dumps(content, ensure_ascii=False, sort_keys=True, default=str).encode()


def compute_digest(row) -> str:
    key = settings.HISTORY_HMAC_KEY.encode()
    return hmac.new(key, _canonical(row), hashlib.sha256).hexdigest()


@dataclass
class Break:
    project_id: int
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"第{self.seq}条" if self.seq is not None else "末尾"
        return f"项目 #{self.project_id} 的历史{where}:{self.problem}"


def verify_project_rows(project_id: int, state: str, rows) -> Break | None:
    """Check one project's rows (ordered by seq) against the chain and the project's state."""
    prev = ""
    expected_seq = 1
    last = None
    for row in rows:
        if row.seq != expected_seq:
            return Break(project_id, expected_seq, "缺失(序号不连续),记录被删除")
        if row.prev_digest != prev:
            return Break(project_id, row.seq, "与上一条的链接不符,前一条记录被改动或删除")
        if not hmac.compare_digest(row.digest, compute_digest(row)):
            return Break(project_id, row.seq, "内容与签名哈希不符,记录被改动")
        prev = row.digest
        expected_seq += 1
        last = row
    if last is not None and last.to_state != state:
        return Break(
            project_id,
            None,
            f"最后一条记录的状态({last.to_state})与项目当前状态"
            f"({state})不符,末尾记录被删除或状态被改动",
        )
    if last is None and state != "draft":
        return Break(project_id, None, f"项目状态为 {state},却没有任何历史记录")
    return None
