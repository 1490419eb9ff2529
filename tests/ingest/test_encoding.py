"""Encoding detection: UTF-8 (with or without BOM) or GB18030/GBK; hopeless files are errors."""

from __future__ import annotations

import codecs

import pytest

from omnicrm.errors import InputError
from omnicrm.ingest.encoding import (
    bad_byte_offsets,
    detect_encoding,
    normalise_encoding,
    strip_bom,
)

CHINESE = "商品编码,名称\nP1,鲜牛奶\nP2,酸奶\nP3,苹果\n"


def test_ascii_and_utf8_text_is_utf8():
    assert detect_encoding(b"a,b\n1,2\n", path="f.csv") == "utf-8"
    assert detect_encoding(CHINESE.encode("utf-8"), path="f.csv") == "utf-8"


def test_gbk_text_is_read_as_gb18030():
    assert detect_encoding(CHINESE.encode("gbk"), path="f.csv") == "gb18030"


def test_a_few_misencoded_lines_do_not_change_the_guess():
    data = ("id,name\n" + "".join(f"{i},鲜牛奶{i}\n" for i in range(50))).encode("utf-8")
    data += "99,坏的\n".encode("gbk")
    assert detect_encoding(data, path="f.csv") == "utf-8"


def test_bom_is_not_part_of_the_text():
    assert strip_bom(codecs.BOM_UTF8 + b"a,b\n") == b"a,b\n"
    assert detect_encoding(codecs.BOM_UTF8 + CHINESE.encode("utf-8"), path="f.csv") == "utf-8"


def test_text_that_no_encoding_reads_is_an_error_naming_file_and_encodings():
    junk = bytes(range(128, 256)) * 20 + b"\n"
    junk = b"".join(junk[i : i + 7] + b"\n" for i in range(0, len(junk), 7))
    with pytest.raises(
        InputError, match=r"cannot read f\.csv.*utf-8.*gb18030.*\[source\] encoding"
    ):
        detect_encoding(junk, path="f.csv")


def test_utf16_is_refused_with_the_fix():
    with pytest.raises(InputError, match="UTF-16 encoded; save it as UTF-8"):
        detect_encoding(codecs.BOM_UTF16_LE + "a,b\n".encode("utf-16-le"), path="f.csv")


def test_bad_offsets_report_one_offset_per_bad_line():
    data = b"ok\nbad \xff\xfe\nok\nalso \xc3\n"
    assert bad_byte_offsets(data, "utf-8") == [7, 18]


def test_encoding_names_are_normalised_and_unknown_ones_refused():
    assert normalise_encoding("GBK") == "gb18030"
    assert normalise_encoding("utf_8") == "utf-8"
    assert normalise_encoding(None) is None
    with pytest.raises(InputError, match="'latin-9' is not supported: use utf-8, gbk or gb18030"):
        normalise_encoding("latin-9")
