"""One identity per paper invoice across kinds (issue 10, hole 5).

A VAT invoice's code + number and a 数电 invoice's 20-digit number become one string of
digits (the same paper invoice entered under another kind is the same identity, refused
by the unique constraint). Other codes and numbers keep "CODE|NUMBER". Stored rows whose
new identities collide are two claims of one invoice: the migration stops and names them,
so that finance decides which claim stands, instead of guessing.
"""

import re
import unicodedata

from django.db import migrations

_CODE = re.compile(r"[0-9]{10}|[0-9]{12}")
_NUMBER8 = re.compile(r"[0-9]{8}")
_NUMBER20 = re.compile(r"[0-9]{20}")


def _normalise(value) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value or ""))).upper()


def identity(code, number) -> str:
    code, number = _normalise(code), _normalise(number)
    if (_CODE.fullmatch(code) and _NUMBER8.fullmatch(number)) or (
        not code and _NUMBER20.fullmatch(number)
    ):
        return f"{code}{number}"
    return f"{code}|{number}"


def forwards(apps, schema_editor):
    Invoice = apps.get_model("projects", "Invoice")
    seen: dict[str, int] = {}
    changes = []
    for pk, code, number, old in Invoice.objects.order_by("pk").values_list(
        "pk", "code", "number", "identity"
    ):
        new = identity(code, number)
        if new in seen:
            raise RuntimeError(
                f"发票 {seen[new]} 与发票 {pk} 是同一张发票(标识 {new}),"
                "请财政科先核实并处理重复报销,再执行迁移。"
            )
        seen[new] = pk
        if new != old:
            changes.append((pk, new))
    # Two passes: first to a unique temporary value, so that no row collides midway.
    for pk, _new in changes:
        Invoice.objects.filter(pk=pk).update(identity=f"~{pk}")
    for pk, new in changes:
        Invoice.objects.filter(pk=pk).update(identity=new)


def backwards(apps, schema_editor):
    Invoice = apps.get_model("projects", "Invoice")
    for pk, code, number in Invoice.objects.values_list("pk", "code", "number"):
        Invoice.objects.filter(pk=pk).update(identity=f"{_normalise(code)}|{_normalise(number)}")


class Migration(migrations.Migration):
    dependencies = [("projects", "0008_issued_documents")]

    operations = [migrations.RunPython(forwards, backwards)]
