"""The streaming CSV reader: delimiters, encodings, exact line numbers, unreadable rows."""

from __future__ import annotations

import gzip

import pytest

from omnicrm.errors import InputError
from omnicrm.ingest import csv_reader
from omnicrm.ingest.csv_reader import CsvSource, sniff_delimiter


def read_all(path, **kwargs):
    src = CsvSource(path, **kwargs)
    data, lines, rejects = {c: [] for c in src.columns}, [], []
    for batch in src.batches():
        for c in src.columns:
            data[c] += batch.data.column(c).to_pylist()
        lines += batch.lines.tolist()
        rejects += batch.rejects
    return src, data, lines, rejects


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2,5;3\n", ";"),
        ("a\tb\tc\n1\t2\t3\n", "\t"),
        ("a|b|c\n1|2|3\n", "|"),
    ],
)
def test_delimiter_is_sniffed(write, text, delimiter):
    src, data, _, _ = read_all(write("f.csv", text))
    assert src.delimiter == delimiter
    assert data["b"] == ["2,5" if delimiter == ";" else "2"]


def test_sniffer_prefers_the_delimiter_consistent_over_lines():
    assert sniff_delimiter("name,price;qty", ["milk,1;2", "tea,3;4"]) in (",", ";")
    assert sniff_delimiter("a;b;c", ["1;2,5;3", "4;5;6"]) == ";"
    assert sniff_delimiter("single", ["x"]) == ","


def test_tsv_extension_means_tab(write):
    src, data, _, _ = read_all(write("f.tsv", "a\tb\n1,5\t2\n"))
    assert src.delimiter == "\t"
    assert data == {"a": ["1,5"], "b": ["2"]}


def test_line_numbers_count_the_header_blank_lines_and_quoted_newlines(write):
    text = 'id,note\n1,plain\n\n2,"two\nlines"\r\n3,"say ""hi"""\n'
    _, data, lines, rejects = read_all(write("f.csv", text))
    assert data["note"] == ["plain", "two\nlines", 'say "hi"']
    assert lines == [2, 4, 6]
    assert rejects == []


def test_utf8_bom_does_not_leak_into_the_first_column_name(write):
    src, data, _, _ = read_all(write("f.csv", "\ufeffid,name\n1,牛奶\n"))
    assert src.columns == ["id", "name"]
    assert data["name"] == ["牛奶"]


def test_gbk_file_keeps_its_chinese_text(write):
    path = write("f.csv", "商品编码,名称\nP1,鲜牛奶\nP2,酸奶\n", encoding="gbk")
    src, data, _, _ = read_all(path)
    assert src.codec == "gb18030"
    assert data == {"商品编码": ["P1", "P2"], "名称": ["鲜牛奶", "酸奶"]}


def test_gzip_csv_is_decompressed_on_the_fly(tmp_path):
    path = tmp_path / "f.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n1,2\n3,4\n"))
    _, data, lines, _ = read_all(path)
    assert data == {"a": ["1", "3"], "b": ["2", "4"]}
    assert lines == [2, 3]


def test_header_row_skips_title_lines(write):
    src, _data, lines, _ = read_all(
        write("f.csv", "Sales export\nMay 2024\nid,qty\n1,2\n"), header_row=3
    )
    assert src.columns == ["id", "qty"]
    assert lines == [4]


def test_rows_with_the_wrong_number_of_fields_are_rejected_with_their_line(write):
    text = "id,name,qty\n1,milk,2\n2,tea\n3,rice,1,extra\n4,salt,5\n"
    _, data, lines, rejects = read_all(write("f.csv", text))
    assert data["id"] == ["1", "4"]
    assert lines == [2, 5]
    assert [(r.line, r.reason) for r in rejects] == [
        (3, "row has 2 fields but the header has 3 (check the delimiter ',' and the quoting)"),
        (4, "row has 4 fields but the header has 3 (check the delimiter ',' and the quoting)"),
    ]
    assert '"_extra_1": "extra"' in rejects[1].raw


def test_misencoded_row_is_rejected_naming_the_column_and_the_rest_loads(write):
    good = "".join(f"{i},鲜牛奶{i},2\n" for i in range(30)).encode("utf-8")
    bad = b"99," + "坏的".encode("gbk") + b",1\n"
    path = write("f.csv", b"id,name,qty\n" + good + bad + b"100,tea,1\n")
    _, data, lines, rejects = read_all(path)
    assert len(data["id"]) == 31
    assert lines[-1] == 33
    assert [r.line for r in rejects] == [32]
    assert rejects[0].reason == (
        "name: text is not valid UTF-8 (mis-encoded; set [source] "
        "encoding if the whole file is GBK)"
    )
    assert '"id": "99"' in rejects[0].raw


def test_explicit_wrong_encoding_that_fails_everywhere_is_an_error(write):
    rows = "".join(f"{i},鲜牛奶\n" for i in range(40))
    path = write("f.csv", "id,name\n" + rows, encoding="gbk")
    src = CsvSource(path, encoding="utf-8")
    with pytest.raises(
        InputError,
        match=r"40 of 40 lines are not valid utf-8 text; set "
        r"\[source\] encoding",
    ):
        list(src.batches())


def test_many_small_chunks_give_the_same_rows_and_lines(write, monkeypatch):
    monkeypatch.setattr(csv_reader, "CHUNK_BYTES", 64)
    text = "id,note\n" + "".join(
        f'{i},"n\n{i}"\n' if i % 7 == 0 else f"{i},n{i}\n" for i in range(200)
    )
    _, data, lines, _ = read_all(write("f.csv", text))
    assert data["id"] == [str(i) for i in range(200)]
    expected, line = [], 2
    for i in range(200):
        expected.append(line)
        line += 2 if i % 7 == 0 else 1
    assert lines == expected


def test_unclosed_quote_is_reported(write, monkeypatch):
    monkeypatch.setattr(csv_reader, "CHUNK_BYTES", 16)
    monkeypatch.setattr(csv_reader, "MAX_RECORD_BYTES", 64)
    path = write("f.csv", 'id,note\n1,"never closed\n' + "2,x\n" * 50)
    with pytest.raises(InputError, match=r"a double quote \(\"\) is probably not closed"):
        list(CsvSource(path).batches())


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "has no header line at line 1"),
        ("a,a\n1,2\n", r"repeats \['a'\]"),
        ("a,,b\n1,2,3\n", "has an empty column name"),
    ],
)
def test_bad_headers_are_clear_errors(write, text, match):
    with pytest.raises(InputError, match=match):
        CsvSource(write("f.csv", text))
