"""Bounds on an uploaded xlsx before anything parses it (issue 10, hole 12).

An xlsx is a zip: 1 MB on disk can hold a 1 GiB shared-strings part that openpyxl would
inflate into memory. `check_ooxml_bounds` reads the zip's central directory (the declared
sizes, refusing a total over MAX_UNCOMPRESSED or a member compressed more than MAX_RATIO
times), then inflates every member through a stream in chunks, counting the bytes it really
gets, so a lying header is caught too; nothing beyond one chunk is kept in memory.

Same name and signature as the upload side's projects/uploads.check_ooxml_bounds (being
written by another branch): the lead keeps one of the two.
"""

from __future__ import annotations

import zipfile
import zlib

from django.core.exceptions import ValidationError

MAX_UNCOMPRESSED = 64 * 1024 * 1024  # 20,000 project rows are about 10 MB of sheet XML
MAX_MEMBERS = 2000
MAX_RATIO = 200  # Office XML compresses 5-20 times; a bomb a thousand times or more
RATIO_FLOOR = 1024 * 1024  # small parts (a blank sheet) may compress very well
CHUNK = 1024 * 1024

UNREADABLE = "无法读取文件:请上传有效的 Excel 文件(.xlsx)。"
TOO_BIG = "文件解压后超过 {limit} MB,内容异常或过大,已拒绝。请分批导入。"
BOMB = "文件的压缩比异常(疑似“压缩炸弹”),已拒绝。请上传正常保存的文件。"


def check_ooxml_bounds(
    file, *, max_uncompressed: int = MAX_UNCOMPRESSED, max_ratio: int = MAX_RATIO
) -> None:
    """Raise ValidationError (Chinese) unless `file` (a path or binary file object) is a zip
    whose members inflate to at most `max_uncompressed` bytes in total, none more than
    `max_ratio` times its compressed size. A file object's position is restored."""
    position = file.tell() if hasattr(file, "tell") else None
    too_big = ValidationError(TOO_BIG.format(limit=max_uncompressed // (1024 * 1024)))
    try:
        try:
            archive = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise ValidationError(UNREADABLE) from exc
        with archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise ValidationError(f"文件内部包含的部件过多(超过 {MAX_MEMBERS} 个),已拒绝。")
            declared = 0
            for info in members:
                declared += info.file_size
                if declared > max_uncompressed:
                    raise too_big
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > RATIO_FLOOR and ratio > max_ratio:
                    raise ValidationError(BOMB)
            actual = 0  # the declared sizes may lie: inflate and count
            for info in members:
                if info.is_dir():
                    continue
                member = 0
                try:
                    with archive.open(info) as stream:
                        while chunk := stream.read(CHUNK):
                            member += len(chunk)
                            actual += len(chunk)
                            if actual > max_uncompressed:
                                raise too_big
                            if member > RATIO_FLOOR and member > max_ratio * max(
                                info.compress_size, 1
                            ):
                                raise ValidationError(BOMB)
                except (
                    zipfile.BadZipFile,
                    zlib.error,
                    OSError,
                    EOFError,
                    NotImplementedError,
                ) as exc:
                    raise ValidationError(UNREADABLE) from exc
    finally:
        if position is not None:
            file.seek(position)
