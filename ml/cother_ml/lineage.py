"""What a model version learnt from, besides the batches behind its rows (cother_ml.storage.batches_read):
a hash of the training data, and the git commit of the code."""

from __future__ import annotations

import hashlib
import subprocess

import pandas as pd

from cother_core.settings import PROJECT_ROOT

HASH_BLOCK_ROWS = 5000


def data_hash(rows: pd.DataFrame) -> str:
    """sha256 of the training rows as CSV, in a stable order: the same rows give the same hash. The CSV
    is hashed a block of rows at a time, never held whole."""
    ordered = rows.sort_values(["region", "date_day"]).reset_index(drop=True)
    digest = hashlib.sha256()
    for start in range(0, len(ordered), HASH_BLOCK_ROWS):
        digest.update(ordered.iloc[start : start + HASH_BLOCK_ROWS].to_csv(index=False, header=start == 0).encode())
    return digest.hexdigest()


def git_commit() -> str:
    """The commit of the checked-out code ('+dirty' if it has uncommitted changes), or 'unknown'."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if status.strip() else "")
