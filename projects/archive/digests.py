"""SHA-256 and SM3 (GB/T 32905-2016) of a file's bytes.

SM3 comes from OpenSSL through hashlib where the build provides it (it does on Debian), and
otherwise from gmssl 3.2.2, the pure-Python reference pinned in pyproject.toml: the two are
checked against each other in the tests. gmssl alone hashes about 0.1 MB/s, too slow for a
package of scans, so it is only the fallback.
"""

import hashlib


def _openssl_sm3():
    try:
        hashlib.new("sm3", b"")
    except ValueError:
        return None
    return lambda data: hashlib.new("sm3", data).hexdigest()


def sm3_reference(data: bytes) -> str:
    from gmssl import func, sm3

    return sm3.sm3_hash(func.bytes_to_list(data))


_SM3 = _openssl_sm3() or sm3_reference


def sm3_hex(data: bytes) -> str:
    return _SM3(bytes(data))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
