"""Bounds on uploaded Office Open XML files (xlsx, docx) before anything parses them.

An xlsx or docx is a zip: 1 MB on disk can hold a 1 GiB shared-strings part that openpyxl
or python-docx would inflate into memory. `check_ooxml_bounds` reads only the zip's central
directory (the declared sizes) and then inflates every member through a capped stream, in
chunks, counting the bytes it really gets, so a lying header is caught too. Nothing is kept
in memory beyond one chunk.
"""

from __future__ import annotations

import zipfile
import zlib

from django.core.exceptions import ValidationError

# 20,000 invoice rows are about 10 MB of sheet XML; a docx rarely holds more than a few MB.
MAX_UNCOMPRESSED = 64 * 1024 * 1024
MAX_MEMBERS = 2000
# Office XML compresses 5-20 times; a bomb compresses a thousand times or more.
MAX_RATIO = 200
# Small members may compress very well (a blank sheet): the ratio counts above this size.
RATIO_FLOOR = 1024 * 1024
CHUNK = 1024 * 1024

_UNREADABLE = "无法读取文件:请上传有效的 Office 文件(.xlsx 或 .docx)。"


def _refuse(message: str) -> ValidationError:
    return ValidationError(message, code="ooxml_bounds")


def check_ooxml_bounds(
    file,
    *,
    max_uncompressed: int = MAX_UNCOMPRESSED,
    max_ratio: int = MAX_RATIO,
    max_members: int = MAX_MEMBERS,
    inflate: bool = True,
) -> None:
    """Raise ValidationError (Chinese) unless `file` (path or binary file object) is a zip
    whose members inflate to at most `max_uncompressed` bytes in total, none at more than
    `max_ratio` times its compressed size. The file object's position is restored.

    `inflate=False` trusts the central directory's sizes and inflates nothing: for a file
    that is stored as it came and never parsed (an uploaded document)."""
    position = file.tell() if hasattr(file, "tell") else None
    try:
        try:
            archive = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise ValidationError(_UNREADABLE, code="unreadable") from exc
        with archive:
            _check_archive(
                archive,
                max_uncompressed=max_uncompressed,
                max_ratio=max_ratio,
                max_members=max_members,
                inflate=inflate,
            )
    finally:
        if position is not None:
            file.seek(position)


def _too_big(limit: int) -> ValidationError:
    return _refuse(
        f"文件解压后超过 {limit // (1024 * 1024)} MB,内容异常或过大,已拒绝。请分批上传。"
    )


def _check_archive(
    archive: zipfile.ZipFile, *, max_uncompressed: int, max_ratio: int, max_members: int, inflate
) -> None:
    members = archive.infolist()
    if len(members) > max_members:
        raise _refuse(f"文件内部包含的部件过多(超过 {max_members} 个),已拒绝。")
    declared = 0
    for info in members:
        declared += info.file_size
        if declared > max_uncompressed:
            raise _too_big(max_uncompressed)
        if info.file_size > RATIO_FLOOR and info.file_size > max_ratio * max(info.compress_size, 1):
            raise _refuse("文件的压缩比异常(疑似“压缩炸弹”),已拒绝。请上传正常保存的文件。")
    if not inflate:
        return
    # The declared sizes may lie: inflate each member through a capped stream and count.
    actual = 0
    for info in members:
        if info.is_dir():
            continue
        try:
            with archive.open(info) as stream:
                while chunk := stream.read(CHUNK):
                    actual += len(chunk)
                    if actual > max_uncompressed:
                        raise _too_big(max_uncompressed)
        except ValidationError:
            raise
        except (
            zipfile.BadZipFile,
            zlib.error,
            OSError,
            ValueError,
            EOFError,
            NotImplementedError,
            RuntimeError,
        ) as exc:
            raise _refuse(_UNREADABLE) from exc
