"""What every reader yields: batches of string columns with the source line of each row.

Examples
--------
>>> import numpy as np, pyarrow as pa
>>> b = SourceBatch(pa.table({"id": ["1"]}), np.array([2]), [Reject(3, '{"id": "x"}', "bad")])
>>> b.rows_read
2
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pyarrow as pa


class Reject(NamedTuple):
    """A source row the reader could not split into fields (quarantined as is)."""

    line: int
    raw: str
    reason: str


@dataclass
class SourceBatch:
    """Rows read from one part of a file.

    Attributes
    ----------
    data : pyarrow.Table
        One string column per source column, named as in the file.
    lines : numpy.ndarray
        Line (or row) number of each row of ``data`` in the file.
    rejects : list of Reject
        Rows of this part of the file that could not be read into columns.
    """

    data: pa.Table
    lines: np.ndarray
    rejects: list[Reject] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        """Rows of the file covered by this batch (readable or not)."""
        return self.data.num_rows + len(self.rejects)
