"""The training slice's quality gate: the rows a retrain is about to train on, through the
fct_training_features suite (Great Expectations), in one run with a verdict per region. It checks the
very frame the retrain then trains on.

Weather: a weather feature the model needs (COTHER_WEATHER_REQUIRED; by default the five every weather
source carries: mean, min and max temperature, precipitation, humidity) empty over the whole window of
a region that has weather fails the retrain, naming region, feature and window. A feature the model
reads but does not need (the bundled Open-Meteo carries no wind, pressure, sunshine or cloud), empty
over the window, is a warning naming it; so is a region with no weather at all in its window (no
weather source covers it: the model reads its weather as missing). Nothing of this when the model
reads no weather (COTHER_WEATHER_FEATURES=false).

The drift of each feature in the slice's newest weeks, a warning only, is cother.ml.drift's (the
retrain's load_and_gate runs it on the rows that passed)."""

from __future__ import annotations

import pandas as pd

from cother.core.settings import Settings, get_settings
from cother.ml.features import WEATHER_COLUMNS, examples, labelled

SUITE = "fct_training_features"


def needed_weather(settings: Settings) -> list[str]:
    """The weather features (mart columns) the model needs: none when it reads no weather."""
    unknown = [column for column in settings.weather_required if column not in WEATHER_COLUMNS]
    if unknown:
        raise ValueError(f"COTHER_WEATHER_REQUIRED: unknown weather features {unknown}; known: {WEATHER_COLUMNS}")
    if not settings.weather_features:
        return []
    return [f"{column}_lag_1" for column in WEATHER_COLUMNS if column in settings.weather_required]


def with_weather_checks(rows: pd.DataFrame, weather: bool, needed: list[str]) -> pd.DataFrame:
    """The slice with the days of each region's window that have its weather: check_days_with_weather
    (any weather feature), check_days_with_needed_<feature> for the needed ones and
    check_days_with_<feature> for the others the model reads. Null where a rule does not apply: every
    weather check when the model reads no weather, the per-feature ones for a region without weather."""
    features = [f"{column}_lag_1" for column in WEATHER_COLUMNS]
    by_region = rows.groupby("region", sort=False)
    region_any = rows[features].notna().any(axis=1).groupby(rows["region"], sort=False).transform("sum").astype("Int64")
    missing = pd.Series(pd.NA, index=rows.index, dtype="Int64")
    checks = {"check_days_with_weather": region_any if weather else missing}
    has_weather = region_any > 0
    for feature in features:
        days = by_region[feature].transform("count").astype("Int64").where(has_weather)
        checks[f"check_days_with_needed_{feature}"] = days if feature in needed else missing
        checks[f"check_days_with_{feature}"] = days if weather and feature not in needed else missing
    return rows.assign(**checks)


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

    settings = get_settings()
    needed = needed_weather(settings)
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
        # Every day of the window once in the mart: the labelled rows themselves skip the days without
        # a daily count (a fall, a glitch, a weekly reporter's days) and the 3 weeks whose lags read them.
        in_mart = checked["region"].eq(region) & checked["date_day"].between(window["min"], window["max"])
        days = with_days(part, window["min"].date(), window["max"].date(), "date_day")
        parts.append(days.assign(check_days_of_region=int(in_mart.sum())))
    checked = with_weather_checks(pd.concat(parts, ignore_index=True), settings.weather_features, needed)
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
