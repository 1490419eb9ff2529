"""Text encodings of source files: detection, validation and transcoding of byte chunks.

Supported encodings are UTF-8 (with or without a byte-order mark) and the Chinese national
encodings GBK and GB18030 (GB18030 is a superset of GBK, so GBK files are read as GB18030).
Detection tries both on a sample and keeps the one under which fewer records are mis-encoded.
A file that is mis-encoded almost everywhere is an error; a few mis-encoded records are
quarantined by the readers while the rest of the file loads.

Examples
--------
>>> from omnicrm.ingest.encoding import detect_encoding
>>> detect_encoding("名称,价格\\n牛奶,3.5\\n".encode("gbk"), path="x.csv")
'gb18030'
>>> detect_encoding(b"name,price\\nmilk,3.5\\n", path="x.csv")
'utf-8'
"""

from __future__ import annotations

import codecs

import numpy as np

from omnicrm.errors import InputError

SUPPORTED_ENCODINGS: dict[str, str] = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "gb18030": "gb18030",
    "cp936": "gb18030",
}
"""Accepted ``[source] encoding`` values and the codec used to read them."""

UTF8_BOM = codecs.BOM_UTF8
SAMPLE_BYTES = 1 << 20
MAX_BAD_FRACTION = 0.5
"""Above this fraction of mis-encoded records in the sample, a file counts as unreadable."""


def normalise_encoding(name: str | None) -> str | None:
    """Return the codec for a ``[source] encoding`` value (``None`` means: detect).

    Raises
    ------
    InputError
        For an encoding omnicrm does not read; the message lists the supported ones.
    """
    if name is None:
        return None
    try:
        return SUPPORTED_ENCODINGS[name.strip().lower().replace("_", "-")]
    except KeyError:
        raise InputError(
            f"[source] encoding = {name!r} is not supported: use utf-8, gbk or gb18030"
        ) from None


def strip_bom(data: bytes) -> bytes:
    """Remove a UTF-8 byte-order mark from the start of ``data``."""
    return data[len(UTF8_BOM) :] if data.startswith(UTF8_BOM) else data


def bad_byte_offsets(data: bytes, codec: str, *, limit: int | None = None) -> list[int]:
    """Offsets of undecodable bytes in ``data``, at most one per line.

    Decoding resumes at the next line after each error, so the cost is linear in the size of
    ``data`` plus one step per bad line.

    Examples
    --------
    >>> bad_byte_offsets(b"ok\\nbad \\xff\\xfe\\nok\\n", "utf-8")
    [7]
    """
    view = memoryview(data)
    decoder = codecs.getdecoder(codec)
    offsets: list[int] = []
    pos = 0
    while pos < len(data):
        try:
            decoder(view[pos:], "strict")
            break
        except UnicodeDecodeError as exc:
            bad = pos + exc.start
            offsets.append(bad)
            if limit is not None and len(offsets) >= limit:
                break
            nl = data.find(b"\n", bad)
            pos = len(data) if nl < 0 else nl + 1
    return offsets


def count_bad_lines(sample: bytes, codec: str) -> tuple[int, int]:
    """Return (mis-encoded lines, non-empty lines) of ``sample`` under ``codec``."""
    lines = max(
        1,
        np.count_nonzero(np.frombuffer(sample, dtype=np.uint8) == 10)
        + (0 if sample.endswith(b"\n") else 1),
    )
    return len(bad_byte_offsets(sample, codec)), lines


def detect_encoding(sample: bytes, *, path: str) -> str:
    """Choose the codec for a file from its first bytes.

    Parameters
    ----------
    sample : bytes
        The first bytes of the file (about 1 MiB is plenty). A trailing partial line is fine.
    path : str
        The file, named in the error message.

    Returns
    -------
    str
        ``"utf-8"`` or ``"gb18030"``.

    Raises
    ------
    InputError
        When the text is mis-encoded almost everywhere under every supported encoding, or is
        UTF-16/UTF-32 (which omnicrm does not read).
    """
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(
            f"cannot read {path}: it is UTF-16 encoded; save it as UTF-8 (or GBK) and retry"
        )
    sample = strip_bom(sample)
    # A sample cut in the middle of a character must not count as an error.
    cut = sample.rfind(b"\n")
    if cut > 0 and len(sample) >= SAMPLE_BYTES:
        sample = sample[: cut + 1]
    bad_utf8, lines = count_bad_lines(sample, "utf-8")
    if bad_utf8 == 0:
        return "utf-8"
    bad_gb, _ = count_bad_lines(sample, "gb18030")
    codec, bad = ("gb18030", bad_gb) if bad_gb < bad_utf8 else ("utf-8", bad_utf8)
    if bad / lines > MAX_BAD_FRACTION:
        raise InputError(
            f"cannot read {path}: the text is not valid in any supported encoding "
            f"(tried utf-8: {bad_utf8} of {lines} lines mis-encoded, gb18030: {bad_gb}); "
            "set [source] encoding in the mapping file (utf-8, gbk or gb18030) or re-save the "
            "file as UTF-8"
        )
    return codec


def check_not_unreadable(bad: int, total: int, *, path: str, codec: str) -> None:
    """Raise when a chunk is mis-encoded almost everywhere under an explicit encoding."""
    if total >= 10 and bad / total > MAX_BAD_FRACTION:
        raise InputError(
            f"cannot read {path}: {bad} of {total} lines are not valid {codec} text; "
            "set [source] encoding in the mapping file to the file's real encoding "
            "(utf-8, gbk or gb18030)"
        )
