"""Ingestion: load CSV/TSV, Parquet, JSON lines and Excel files into contract tables.

Rows are read in batches, mapped (:mod:`omnicrm.ingest.mapping`), parsed and validated against
the data contract; rejected rows go to ``quarantine`` with their line, raw content and reason;
each file commits atomically and re-loading a file adds nothing (natural keys). See
``docs/ingest.md``.

Examples
--------
>>> import pathlib, tempfile
>>> from omnicrm.warehouse import connect
>>> from omnicrm.ingest import ingest_files
>>> p = pathlib.Path(tempfile.mkdtemp()) / "products.csv"
>>> _ = p.write_text("product_id,name,category,unit_price\\nP1,Milk,Dairy,3.50\\n")
>>> con = connect("duckdb://:memory:")
>>> ingest_files(con, [p], table="products").as_dict()["loaded"]
1
>>> ingest_files(con, [p], table="products").duplicates
1
"""

from omnicrm.ingest.load import (
    FileResult,
    IngestResult,
    Progress,
    ingest_file,
    ingest_files,
)
from omnicrm.ingest.mapping import Mapping, load_mapping
from omnicrm.ingest.readers import EXTENSIONS, SourceOptions, open_source

__all__ = [
    "EXTENSIONS",
    "FileResult",
    "IngestResult",
    "Mapping",
    "Progress",
    "SourceOptions",
    "ingest_file",
    "ingest_files",
    "load_mapping",
    "open_source",
]
