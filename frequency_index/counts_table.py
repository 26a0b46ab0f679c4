"""The counts table every backend produces: its columns, its provenance, writing and reading it.

The provenance is JSON in the Parquet schema metadata under the key ``freq_unlearn``; read it
back with ``read_provenance(path)``. Nothing is written under the final name until the table is
complete (temp name in the same folder, then ``os.replace``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from freq_unlearn.core.errors import UserError

PROVENANCE_KEY = b"freq_unlearn"
COUNT_COLUMN_ORDER = (
    "fact_id",
    "subject",
    "object",
    "count",
    "subject_count",
    "object_count",
    "window_count",
    "approximate",
)


class CountingError(UserError):
    """A counting run that cannot finish; one line naming what failed."""


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("freq-unlearn", "datatrove", "ahocorasick-rs", "infini-gram"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def counts_frame(facts: pd.DataFrame, count, subj, obj, window=None, approximate=False) -> pd.DataFrame:
    """The counts table of ``facts`` (in facts order) from per-fact lists."""
    n = len(facts)
    return pd.DataFrame(
        {
            # .array: the facts' own (Arrow) string arrays, not object arrays converted back
            "fact_id": facts["fact_id"].array,
            "subject": facts["subject"].array,
            "object": facts["object"].array,
            "count": pd.array(count, dtype="int64"),
            "subject_count": pd.array(subj, dtype="int64"),
            "object_count": pd.array(obj, dtype="int64"),
            "window_count": pd.array(window, dtype="Int64") if window is not None
            else pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)),  # all null
            "approximate": pd.array(
                approximate if isinstance(approximate, list) else [bool(approximate)] * n, dtype="bool"
            ),
        }
    )


def write_counts(df: pd.DataFrame, provenance: dict[str, Any], out: Path) -> pd.DataFrame:
    """Write the counts Parquet atomically, provenance in the schema metadata, rows by fact_id.

    Returns the table as written, with the provenance in ``df.attrs["freq_unlearn"]``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not df["fact_id"].is_monotonic_increasing:  # load_facts already sorts: skip a 100k-string sort
        df = df.sort_values("fact_id", kind="stable")
    df = df.reset_index(drop=True)
    columns = list(COUNT_COLUMN_ORDER) + [c for c in df.columns if c not in COUNT_COLUMN_ORDER]
    df = df[columns]
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), PROVENANCE_KEY: json.dumps(provenance, sort_keys=True).encode()}
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    df.attrs[PROVENANCE_KEY.decode()] = provenance
    return df


def read_provenance(path: str | Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).metadata or {}
    return json.loads(metadata.get(PROVENANCE_KEY, b"{}"))
