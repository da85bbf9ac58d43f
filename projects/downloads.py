"""The one way a file leaves the application: always a download (never rendered inline),
named safely in both forms of RFC 6266 (an ASCII fallback for old clients, the UTF-8 name
for the rest), never sniffed by the browser into something executable."""

import os
import re
from urllib.parse import quote

# Anything outside this set is dropped from the ASCII fallback: quotes, backslashes, ';'
# and '%' would let a name end the parameter or be decoded twice.
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9._()\- ]+")


def clean_filename(name: str, default: str = "download") -> str:
    """The bare name: no directories, no control characters (CR/LF cannot reach a header)."""
    name = os.path.basename((name or "").replace("\\", "/"))
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?')
    return name.strip().lstrip(".")[:200] or default


def ascii_fallback(name: str, default: str = "download") -> str:
    """An ASCII-only stand-in that keeps the extension: 项目档案.zip → download.zip."""
    stem, ext = os.path.splitext(clean_filename(name, default))
    stem = _ASCII_UNSAFE.sub("_", stem).strip("_ .-") or default
    ext = _ASCII_UNSAFE.sub("", ext)
    return f"{stem}{ext}"


def attachment_disposition(name: str) -> str:
    name = clean_filename(name)
    return f"attachment; filename=\"{ascii_fallback(name)}\"; filename*=UTF-8''{quote(name)}"


def protect_download(response, name: str):
    """Make `response` a download the browser will neither sniff nor run."""
    response["Content-Disposition"] = attachment_disposition(name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
