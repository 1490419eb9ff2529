"""Shared fixtures.

PostgreSQL: tests marked ``postgres`` use :func:`postgres_url`, read from
``OMNICRM_TEST_POSTGRES_URL``. Without it they are skipped — unless
``OMNICRM_REQUIRE_POSTGRES=1`` (set by ``.ci/run``), in which case a skip is a failure, so CI
can never pass without having run them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

POSTGRES_ENV = "OMNICRM_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "OMNICRM_REQUIRE_POSTGRES"

DATA_DIR = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy-style URL of a real PostgreSQL database for tests."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    return url


@pytest.fixture
def warehouse(tmp_path: Path):
    """A fresh DuckDB warehouse file in a temporary folder."""
    from omnicrm.warehouse import connect

    con = connect(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    yield con
    con.disconnect()


@pytest.fixture(scope="session")
def spark_warehouse():
    """One PySpark local-mode warehouse (``local[2]``) shared by the whole test session.

    Starting Spark costs about 10 s, so every Spark test uses this one connection.
    """
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from omnicrm.warehouse import connect

    con = connect("pyspark://local[2]")
    yield con
    con.disconnect()


@pytest.fixture(scope="session")
def small_retailer(tmp_path_factory) -> Path:
    """A small synthetic retailer (1,200 customer records, two years), generated and ingested once.

    Returns the path of its DuckDB warehouse file; copy it before writing to it.
    """
    from omnicrm.datagen import generate
    from omnicrm.ingest import ingest_files
    from omnicrm.warehouse import connect

    root = tmp_path_factory.mktemp("small_retailer")
    retailer = generate(root / "data", customers=1200, days=730, seed=7)
    path = root / "warehouse.duckdb"
    con = connect(f"duckdb:///{path}")
    for data_file in retailer.files:
        ingest_files(con, [data_file.path], table=data_file.table, mapping=data_file.mapping_path)
    con.disconnect()
    return path


@pytest.fixture
def retailer_warehouse(small_retailer: Path, tmp_path: Path):
    """A writable copy of :func:`small_retailer`'s warehouse."""
    import shutil

    from omnicrm.warehouse import connect

    target = tmp_path / "retailer.duckdb"
    shutil.copy(small_retailer, target)
    con = connect(f"duckdb:///{target}")
    yield con
    con.disconnect()


_postgres_outcomes: dict[str, int] = {"passed": 0, "skipped": 0}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "postgres" not in report.keywords:
        return
    if report.when == "call" and report.passed:
        _postgres_outcomes["passed"] += 1
    elif report.skipped:
        _postgres_outcomes["skipped"] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get(REQUIRE_POSTGRES_ENV) != "1":
        return
    if _postgres_outcomes["skipped"] or not _postgres_outcomes["passed"]:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        msg = (
            f"{REQUIRE_POSTGRES_ENV}=1 but PostgreSQL tests did not all run "
            f"(passed {_postgres_outcomes['passed']}, skipped {_postgres_outcomes['skipped']}); "
            f"check {POSTGRES_ENV} and that the server accepts connections"
        )
        if reporter is not None:
            reporter.write_line(msg, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
