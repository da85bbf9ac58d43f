"""大写金额 by 会计基础工作规范第五十二条 (DESIGN.md §4 gives the first four examples)."""

from decimal import Decimal

import pytest

from projects.money import to_chinese_capital


@pytest.mark.parametrize(
    ("amount", "capital"),
    [
        ("12345.67", "人民币壹万贰仟叁佰肆拾伍元陆角柒分"),
        ("16409.02", "人民币壹万陆仟肆佰零玖元零贰分"),
        ("1004.50", "人民币壹仟零肆元伍角整"),
        ("10", "人民币壹拾元整"),
        ("0", "人民币零元整"),
        ("100000", "人民币壹拾万元整"),
        ("1000000.01", "人民币壹佰万元零壹分"),
        ("0.05", "人民币伍分"),
        ("0.50", "人民币伍角整"),
        ("100010000", "人民币壹亿零壹万元整"),
        ("10000100", "人民币壹仟万零壹佰元整"),
        ("3000.00", "人民币叁仟元整"),
        ("-120.00", "人民币负壹佰贰拾元整"),
    ],
)
def test_capital_amounts(amount, capital):
    assert to_chinese_capital(Decimal(amount)) == capital


def test_capital_refuses_float():
    with pytest.raises(TypeError):
        to_chinese_capital(1.5)
