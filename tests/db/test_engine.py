"""Engines: URL handling, SQLite transaction settings, bounded retry of lock conflicts."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from omnicrm.db import (
    database_url,
    is_retryable,
    make_engine,
    make_session_factory,
    run_transaction,
)
from omnicrm.db.engine import read_only
from omnicrm.errors import InputError


def test_url_comes_from_the_argument_then_the_environment_then_the_default(monkeypatch):
    monkeypatch.delenv("OMNICRM_DATABASE_URL", raising=False)
    assert database_url() == "sqlite:///./omnicrm.sqlite3"
    monkeypatch.setenv("OMNICRM_DATABASE_URL", "sqlite:///env.sqlite3")
    assert database_url() == "sqlite:///env.sqlite3"
    assert database_url("sqlite:///arg.sqlite3") == "sqlite:///arg.sqlite3"


@pytest.mark.parametrize(
    ("url", "message"),
    [("not a url", "cannot be parsed"), ("mysql://u@h/db", "backend 'mysql' is not supported")],
)
def test_unsupported_urls_are_explained(url, message):
    with pytest.raises(InputError, match=message):
        make_engine(url)


def test_sqlite_files_use_wal_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_readers_are_not_blocked_by_a_writer(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    factory = make_session_factory(engine)
    with factory() as setup:
        setup.execute(text("create table t (x int)"))
        setup.execute(text("insert into t values (1)"))
        setup.commit()
    with factory() as writer:
        writer.execute(text("update t set x = 2"))  # holds the write lock, not committed
        result = []
        reader = threading.Thread(
            target=lambda: result.append(
                read_only(factory()).execute(text("select x from t")).scalar()
            )
        )
        reader.start()
        reader.join(5)
        assert result == [1]
        writer.rollback()
    engine.dispose()


def locked() -> OperationalError:
    return OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked"))


def test_lock_conflicts_are_retried_then_succeed(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    calls = []

    def flaky(session):
        calls.append(1)
        if len(calls) < 3:
            raise locked()
        return "done"

    assert run_transaction(make_session_factory(engine), flaky, base_delay=0) == "done"
    assert len(calls) == 3
    engine.dispose()


def test_retries_are_bounded_and_other_errors_are_not_retried(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    factory = make_session_factory(engine)
    calls = []

    def always_locked(session):
        calls.append(1)
        raise locked()

    with pytest.raises(OperationalError):
        run_transaction(factory, always_locked, attempts=4, base_delay=0)
    assert len(calls) == 4

    def integrity(session):
        calls.append(1)
        raise IntegrityError("insert", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))

    calls.clear()
    with pytest.raises(IntegrityError):
        run_transaction(factory, integrity, base_delay=0)
    assert len(calls) == 1
    assert is_retryable(locked())
    assert not is_retryable(ValueError())
    engine.dispose()


def _terminate_backends(url: str) -> int:
    """Close, from the server side, every other connection of ``url``'s application."""
    admin = make_engine(url)
    with admin.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'omnicrm-lost-connection-test' "
                "AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    admin.dispose()
    return killed


@pytest.mark.postgres
def test_an_operation_on_a_connection_the_server_closed_runs_again_on_a_new_one(postgres_url):
    from sqlalchemy.engine import make_url

    from omnicrm.api.core.db import Database
    from omnicrm.db import upgrade
    from omnicrm.db.testing import temporary_schema

    with temporary_schema(postgres_url, "lost_conn") as url:
        upgrade(make_engine(url))
        tagged = make_url(url).update_query_dict(
            {"application_name": "omnicrm-lost-connection-test"}
        )
        db = Database(tagged.render_as_string(hide_password=False))
        calls = []

        def write(session):
            calls.append(1)
            n = session.execute(text("SELECT count(*) FROM loyalty_members")).scalar_one()
            session.commit()
            return n

        assert db.run(write) == 0  # the pool now holds a connection
        assert _terminate_backends(url) >= 1  # e.g. a database restart
        assert db.run(write) == 0  # the first try fails on the dead connection, the retry works
        assert len(calls) == 3
        assert _terminate_backends(url) >= 1
        assert db.read(lambda s: s.execute(text("SELECT 1")).scalar_one()) == 1
        db.dispose()


def test_a_connection_lost_during_the_commit_is_not_retried():
    from sqlalchemy.exc import DBAPIError

    from omnicrm.db.engine import lost_connection

    lost = DBAPIError("COMMIT", None, Exception("server closed the connection"))
    lost.connection_invalidated = True
    factory = make_session_factory(make_engine("sqlite://"))
    with factory() as session:
        session.execute(text("SELECT 1"))
        assert lost_connection(lost, session)  # before the commit: safe to run again
        session.commit()
        assert not lost_connection(lost, session)  # the commit's outcome is unknown
        session.execute(text("SELECT 1"))  # a new transaction
        assert lost_connection(lost, session)
    assert not lost_connection(DBAPIError("SELECT", None, Exception("syntax")), None)


@pytest.mark.postgres
def test_reads_on_postgres_hold_no_transaction_and_leave_writes_transactional(postgres_url):
    """A read-only session runs each statement on its own (READ COMMITTED gives every
    statement a fresh snapshot anyway), so it sends no BEGIN/ROLLBACK and holds nothing open;
    the pooled connection is transactional again for the next writer."""
    import time

    from omnicrm.db.testing import temporary_schema

    with temporary_schema(postgres_url, "read_autocommit") as url:
        engine = make_engine(url, pool_size=1)  # one connection: reader and writer share it
        factory = make_session_factory(engine)
        with factory() as setup:
            setup.execute(text("CREATE TABLE t (x int)"))
            setup.commit()

        with read_only(factory()) as reader:
            first = reader.execute(text("SELECT transaction_timestamp()")).scalar_one()
            time.sleep(0.01)
            second = reader.execute(text("SELECT transaction_timestamp()")).scalar_one()
            open_xact = reader.execute(
                text("SELECT state FROM pg_stat_activity WHERE pid = pg_backend_pid()")
            ).scalar_one()
        assert second > first  # each statement is its own transaction
        assert open_xact == "active"  # not "idle in transaction" between statements

        with factory() as writer:
            writer.execute(text("INSERT INTO t VALUES (1)"))
            writer.rollback()  # a writer's work is still undone by a rollback
            start = writer.execute(text("SELECT transaction_timestamp()")).scalar_one()
            time.sleep(0.01)
            assert writer.execute(text("SELECT transaction_timestamp()")).scalar_one() == start
            assert writer.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
            writer.rollback()
        engine.dispose()
