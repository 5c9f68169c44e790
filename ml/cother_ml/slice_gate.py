"""The training slice's quality gate: the rows a retrain is about to train on, through the suite of
its grain's mart (Great Expectations: fct_training_features, fct_training_features_weekly), in one run
with a verdict per region. It checks the very frame the retrain then trains on.

Weather: a weather feature the model needs (COTHER_WEATHER_REQUIRED; by default the five every weather
source carries: mean, min and max temperature, precipitation, humidity) empty over the whole window of
a region that has weather fails the retrain, naming region, feature and window. A feature the model
reads but does not need (the bundled Open-Meteo carries no wind, pressure, sunshine or cloud), empty
over the window, is a warning naming it; so is a region with no weather at all in its window (no
weather source covers it: the model reads its weather as missing). Nothing of this when the model
reads no weather (COTHER_WEATHER_FEATURES=false), nor for a weekly set (it runs without weather).

The drift of each feature in the slice's newest weeks, a warning only, is cother_ml.drift's (the
retrain's load_and_gate runs it on the rows that passed)."""

from __future__ import annotations

import pandas as pd

from cother_core.settings import Settings, get_settings
from cother_ml.features import WEATHER_COLUMNS, examples, labelled
from cother_ml.grain import Grain


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


def with_lag_check(mart: pd.DataFrame, step_days: int) -> pd.DataFrame:
    """The mart with check_lag_1_is_previous_day: features come from earlier rows only, so each row's
    lag 1 is the previous day's (or week's) count, nothing else."""
    by_region = mart.groupby("region", sort=False)
    consecutive = by_region["date_day"].diff() == pd.Timedelta(days=step_days)
    previous_day = by_region["new_cases"].shift(1).where(consecutive)
    lag_matches = (mart["cases_lag_1"] == previous_day) | (mart["cases_lag_1"].isna() & previous_day.isna())
    return mart.assign(check_lag_1_is_previous_day=lag_matches)


def validate(mart: pd.DataFrame, regions: list[str], grain: Grain) -> list[dict]:
    """The labelled slice of the first horizon of these regions' mart rows through the grain's suite;
    raises QualityGateError naming every failing region. Regions without labelled rows yet (less
    history than the features read) are left out, by name; [] when none has any."""
    from cother_core.coverage import with_days
    from cother_core.gate import gate

    settings = get_settings()
    weather = settings.weather_features and grain.weather
    checked = with_lag_check(mart, grain.step_days)
    # the slice training on the first horizon reads
    rows = labelled(examples(checked, grain.first_horizon, grain), grain)[list(checked.columns)]
    if rows.empty:
        print(f"{grain.mart}: regions {regions}: no labelled rows yet, nothing to validate")
        return []
    short = sorted(set(regions) - set(rows["region"]))
    if short:  # published, but not yet the history a labelled row reads: not trained yet
        print(f"not enough history yet to train on regions {short}: left out of this retrain")
    windows = rows.groupby("region")["date_day"].agg(["min", "max"])
    frame = rows.assign(date_day=rows["date_day"].dt.date)
    days_checks = []
    for region, window in windows.iterrows():  # each region is checked against its own window
        days = frame.loc[frame["region"] == region, ["region", "date_day"]]
        # Every row of the window once in the mart: the labelled rows themselves skip the rows without
        # a count (a fall, a glitch, a weekly reporter's days) and the rows whose lags read them.
        in_mart = checked["region"].eq(region) & checked["date_day"].between(window["min"], window["max"])
        days = with_days(days, window["min"].date(), window["max"].date(), "date_day", grain.step_days)
        days_checks.append(days.drop(columns=["region", "date_day"]).assign(check_days_of_region=int(in_mart.sum())))
    # each row beside its region's checks (aligned on the index): the slice is not copied region by region
    checks = pd.concat(days_checks)
    checked = frame.assign(**{column: checks[column] for column in checks.columns})
    if grain.weather:
        checked = with_weather_checks(checked, weather, needed_weather(settings))
    subjects = {
        region: f"{grain.mart}, region {region}, dates {w['min']:%Y-%m-%d}..{w['max']:%Y-%m-%d}"
        for region, w in windows.iterrows()
    }
    reports = gate(checked, grain.suite, subjects)
    return [
        {
            "region": region,
            "validation_id": reports[region].run_id,
            "rows": int((checked["region"] == region).sum()),
            "window": f"{w['min']:%Y-%m-%d}..{w['max']:%Y-%m-%d}",
        }
        for region, w in windows.iterrows()
    ]
