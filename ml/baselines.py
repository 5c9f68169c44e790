"""The naive forecasters every model must beat, read from the same mart rows."""

from __future__ import annotations

import pandas as pd


def persistence(frame: pd.DataFrame) -> pd.Series:
    """Tomorrow as today: yesterday's count."""
    return frame["cases_lag_1"]


def seasonal_naive(frame: pd.DataFrame) -> pd.Series:
    """The same weekday last week."""
    return frame["cases_lag_7"]


BASELINES = {"persistence": persistence, "seasonal_naive": seasonal_naive}
