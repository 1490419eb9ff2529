"""A load killed mid-file leaves nothing of that file; running it again loads it fully.

The loads run in real subprocesses that are killed with SIGKILL (no cleanup code runs) or
interrupted with SIGINT (Ctrl-C, through the CLI) while the file is being read.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from omnicrm.ingest import ingest_file
from omnicrm.warehouse import connect

from .conftest import rows

ROWS = 200_000

RUNNER = textwrap.dedent("""
    import sys
    from omnicrm.ingest import csv_reader, ingest_files
    csv_reader.CHUNK_BYTES = 1 << 18          # many batches, so there is a "mid-file"

    def report(p):
        if p.file.endswith("big.csv") and p.rows_read and not p.done:
            print("mid-file", p.rows_read, flush=True)

    if sys.argv[1] == "cli":
        import omnicrm.cli.ingest_cmd as cmd
        from omnicrm.cli.main import main

        def with_report(*args, progress, **kwargs):
            def both(p):
                report(p)
                progress(p)
            return ingest_files(*args, progress=both, **kwargs)

        cmd.ingest_files = with_report
        sys.exit(main(["ingest", *sys.argv[3:], "--table", "products", "-w", sys.argv[2]]))
    from omnicrm.warehouse import connect
    con = connect(sys.argv[2])
    ingest_files(con, sys.argv[3:], table="products", progress=report)
""")


@pytest.fixture
def files(tmp_path):
    small = tmp_path / "small.csv"
    small.write_text("product_id,name,category\nS1,Salt,Pantry\nS2,Sugar,Pantry\n")
    big = tmp_path / "big.csv"
    with big.open("w") as f:
        f.write("product_id,name,category,unit_price\n")
        f.writelines(f"P{i},Product {i},Cat {i % 50},{i % 1000}.99\n" for i in range(ROWS))
    return small, big


def start(mode: str, url: str, *paths) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, mode, url, *map(str, paths)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_mid_file(proc: subprocess.Popen) -> int:
    for line in proc.stdout:
        if line.startswith("mid-file"):
            return int(line.split()[1])
    raise AssertionError(
        "the load finished without reaching the middle of big.csv: " + proc.stderr.read()
    )


def check_nothing_of_big_then_reload(url: str, small, big) -> None:
    con = connect(url)
    loaded = {r["product_id"] for r in rows(con, "products")}
    assert loaded == {"S1", "S2"}
    assert [r["source_file"] for r in rows(con, "ingest_runs")] == [str(small)]
    assert rows(con, "quarantine") == []
    result = ingest_file(con, big, table="products")
    assert (result.read, result.loaded, result.quarantined) == (ROWS, ROWS, 0)
    assert int(con.table("products").count().execute()) == ROWS + 2
    con.disconnect()


@pytest.mark.slow
def test_sigkill_mid_file_leaves_no_partial_load(tmp_path, files):
    small, big = files
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    proc = start("lib", url, small, big)
    staged = wait_mid_file(proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert 0 < staged < ROWS
    check_nothing_of_big_then_reload(url, small, big)


@pytest.mark.slow
def test_ctrl_c_in_the_cli_mid_file_commits_nothing_of_that_file(tmp_path, files):
    small, big = files
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    proc = start("cli", url, small, big)
    wait_mid_file(proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted: nothing was committed for the file in progress" in err
    assert f"already loaded: {small}" in " ".join(err.split())
    assert "Traceback" not in err
    check_nothing_of_big_then_reload(url, small, big)
