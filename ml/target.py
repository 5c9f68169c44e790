"""The target transform: the log change of new cases against the same weekday last week (the anchor).

Trees cannot extrapolate beyond the levels they saw; a change relative to last week holds when counts
leave the range of the training window. Pure numpy/pandas, so the registered model can carry it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ANCHOR = "cases_lag_7"


def to_target(frame: pd.DataFrame) -> pd.Series:
    return np.log1p(frame["new_cases"]) - np.log1p(frame[ANCHOR])


def from_target(frame: pd.DataFrame, log_change: np.ndarray) -> np.ndarray:
    return np.expm1(np.log1p(frame[ANCHOR].to_numpy(dtype=float)) + log_change).clip(min=0)
