"""Damaged files get a Chinese refusal, never another exception (a 500 on the page)."""

import random
import struct

import pytest
from django.core.exceptions import ValidationError

from projects.capture import read_invoices
from tests.projects.capture import makers


def test_xml_declaring_an_unknown_encoding():
    with pytest.raises(ValidationError, match="格式有误"):
        read_invoices(b'<?xml version="1.0" encoding="UTe-8"?><EInvoice/>', "a.xml")


def test_zip_needing_an_unknown_version_to_extract():
    data = bytearray(makers.zip_bytes({"a.xml": makers.einvoice_xml()}))
    struct.pack_into("<H", data, data.index(b"PK\x01\x02") + 6, 213)
    with pytest.raises(ValidationError, match="不是 zip 格式"):
        read_invoices(bytes(data), "a.zip")


def _samples() -> dict:
    return {
        "a.xml": makers.einvoice_xml(),
        "a.pdf": makers.invoice_pdf(),
        "a.ofd": makers.ofd_bytes(custom={"发票号码": makers.NUMBER, "开票日期": "2025-04-01"}),
        "a.png": makers.image_bytes(makers.qr_image(makers.PAYLOAD_OLD)),
        "a.zip": makers.zip_bytes({"x.xml": makers.einvoice_xml(), "x.ofd": makers.ofd_bytes()}),
        "a.txt": makers.PAYLOAD_OLD.encode(),
    }


def _mutations(data: bytes, rng: random.Random):
    for trial in range(30):
        damaged = bytearray(data)
        if trial % 3 == 0:
            for _ in range(rng.randint(1, 8)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        elif trial % 3 == 1:
            damaged = damaged[: rng.randrange(1, len(damaged))]
        else:
            at = rng.randrange(len(damaged))
            damaged[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 50)))
        yield bytes(damaged)


@pytest.mark.parametrize("name", list(_samples()))
def test_damaged_copies_are_read_or_refused_in_chinese(name):
    rng = random.Random(f"capture-{name}")  # fixed seeds: the same damage every run
    refusals = 0
    for damaged in _mutations(_samples()[name], rng):
        try:
            read_invoices(damaged, name)
        except ValidationError as error:
            refusals += 1
            assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in error.messages)
    assert refusals > 0
