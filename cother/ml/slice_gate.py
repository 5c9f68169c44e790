"""The training slice's quality gate: the rows a retrain is about to train on, through the
fct_training_features suite (Great Expectations), in one run with a verdict per region. It checks the
very frame the retrain then trains on."""

from __future__ import annotations

import pandas as pd

from cother.ml.features import examples, labelled

SUITE = "fct_training_features"


def with_lag_check(mart: pd.DataFrame) -> pd.DataFrame:
    """The mart with check_lag_1_is_previous_day: features come from earlier days only, so each row's
    lag 1 is the previous day's count, nothing else."""
    by_region = mart.groupby("region", sort=False)
    consecutive = by_region["date_day"].diff() == pd.Timedelta(days=1)
    previous_day = by_region["new_cases"].shift(1).where(consecutive)
    lag_matches = (mart["cases_lag_1"] == previous_day) | (mart["cases_lag_1"].isna() & previous_day.isna())
    return mart.assign(check_lag_1_is_previous_day=lag_matches)


def validate(mart: pd.DataFrame, regions: list[str]) -> list[dict]:
    """The labelled next-day slice of these regions' mart rows through the suite; raises
    QualityGateError naming every failing region. Regions without labelled rows yet (less history than
    the features read) are left out, by name; [] when none has any."""
    from cother.quality.batch_checks import with_days
    from cother.quality.gate import gate

    checked = with_lag_check(mart)
    rows = labelled(examples(checked, horizon=1))[list(checked.columns)]  # the slice next-day training reads
    if rows.empty:
        print(f"marts.fct_training_features: regions {regions}: no labelled rows yet, nothing to validate")
        return []
    short = sorted(set(regions) - set(rows["region"]))
    if short:  # published, but not yet the 3 weeks of history a labelled row reads: not trained yet
        print(f"not enough history yet to train on regions {short}: left out of this retrain")
    windows = rows.groupby("region")["date_day"].agg(["min", "max"])
    frame = rows.assign(date_day=rows["date_day"].dt.date)
    parts = []
    for region, window in windows.iterrows():  # each region is checked against its own window
        part = frame[frame["region"] == region]
        parts.append(with_days(part, window["min"].date(), window["max"].date(), "date_day"))
    checked = pd.concat(parts, ignore_index=True)
    subjects = {
        region: f"marts.fct_training_features, region {region}, dates {w['min']:%Y-%m-%d}..{w['max']:%Y-%m-%d}"
        for region, w in windows.iterrows()
    }
    reports = gate(checked, SUITE, subjects)
    return [
        {
            "region": region,
            "validation_id": reports[region].run_id,
            "rows": int((checked["region"] == region).sum()),
            "window": f"{w['min']:%Y-%m-%d}..{w['max']:%Y-%m-%d}",
        }
        for region, w in windows.iterrows()
    ]
