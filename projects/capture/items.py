"""A budget line suggested by the invoice's item names (``*纸制品*复印纸``): the text between
the asterisks is the tax classification's short name. A suggestion only: the user chooses."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from projects.capture.values import clean_text
from projects.models.choices import BudgetItem

# Short name (or a word in it) -> budget line. Longer keys are tried first.
CATEGORY_LINES = {
    "纸制品": BudgetItem.MATERIALS,
    "印刷品": BudgetItem.MATERIALS,
    "图书": BudgetItem.MATERIALS,
    "出版物": BudgetItem.MATERIALS,
    "报刊": BudgetItem.MATERIALS,
    "音像制品": BudgetItem.MATERIALS,
    "文具": BudgetItem.MATERIALS,
    "办公用品": BudgetItem.MATERIALS,
    "广告服务": BudgetItem.MATERIALS,  # banners and posters for the activity
    # 培训费 covers the trainees' meals and lodging (中央和国家机关培训费管理办法 第十条).
    "餐饮服务": BudgetItem.TRAINING,
    "住宿服务": BudgetItem.TRAINING,
    "培训服务": BudgetItem.TRAINING,
    "教育服务": BudgetItem.TRAINING,
    "会议服务": BudgetItem.VENUE,
    "会展服务": BudgetItem.VENUE,
    "租赁服务": BudgetItem.VENUE,
    "经营租赁": BudgetItem.VENUE,
    "运输服务": BudgetItem.TRANSPORT,
    "旅客运输": BudgetItem.TRANSPORT,
    "客运服务": BudgetItem.TRANSPORT,
    "出租汽车": BudgetItem.TRANSPORT,
    "汽油": BudgetItem.TRANSPORT,
    "柴油": BudgetItem.TRANSPORT,
    "计算机": BudgetItem.EQUIPMENT,
    "通信设备": BudgetItem.EQUIPMENT,
    "办公设备": BudgetItem.EQUIPMENT,
    "视听设备": BudgetItem.EQUIPMENT,
    "照相器材": BudgetItem.EQUIPMENT,
    "家具": BudgetItem.EQUIPMENT,
    "奖杯": BudgetItem.AWARDS,
    "奖牌": BudgetItem.AWARDS,
    "锦旗": BudgetItem.AWARDS,
    "工艺品": BudgetItem.AWARDS,
}
_KEYS = sorted(CATEGORY_LINES, key=len, reverse=True)
_CATEGORY = re.compile(r"^\*([^*]+)\*")


@lru_cache(maxsize=4096)  # item names repeat: one seller's goods, many invoices
def _line_for(item_name: str) -> str | None:
    text = clean_text(item_name)
    match = _CATEGORY.match(text)
    category = match.group(1) if match else text
    for key in _KEYS:
        if key in category:
            return CATEGORY_LINES[key].value
    return None


def suggest_budget_item(item_names) -> str | None:
    """The BudgetItem value most of the items point to (the first seen on a tie); None if
    no item is recognised."""
    lines = [line for line in map(_line_for, item_names) if line]
    if not lines:
        return None
    counts = Counter(lines)
    best = max(counts.values())
    return next(line for line in lines if counts[line] == best)
