"""One region on the Forecasts page, in the periods of its set (days, or weeks ending on Sunday): its
counts beside the champion's forecasts (each named by who made it, with its 50 % and 95 % intervals)
and the baselines', the coverage so far of those intervals, the rolling accuracy against persistence,
the weather with its units, and the champion with its links."""

from __future__ import annotations

from html import escape

import pandas as pd

from cother.forecast_page.charts import Band, Line, line_chart
from cother.forecast_page.data import WIDTHS, horizons, in_words, is_late, made_by
from cother_core.settings import get_settings

COLORS = {"actual": "#111827", "persistence": "#9ca3af", "seasonal_naive": "#a78bfa", "mean_4w": "#a78bfa"}
HORIZON_COLORS = ["#2563eb", "#ea580c", "#16a34a", "#9333ea"]  # a set's horizons, in order
OPACITY = {95: 0.12, 50: 0.25}  # an interval's shade: the 50 % one over the 95 % one looks darker


def points(frame: pd.DataFrame | None, day: str, value: str) -> list[tuple]:
    if frame is None or frame.empty:
        return []
    known = frame.dropna(subset=[value]).sort_values(day)
    return [(pd.Timestamp(d).date(), float(v)) for d, v in zip(known[day], known[value], strict=True)]


def bounds(frame: pd.DataFrame | None, day: str, width: int) -> list[tuple]:
    """The (day, lower, upper) of each row's central interval of this width (data.BOUNDS), where known."""
    if frame is None or frame.empty:
        return []
    lower, upper = f"lower_{width}", f"upper_{width}"
    known = frame.dropna(subset=[lower, upper]).sort_values(day)
    return [
        (pd.Timestamp(d).date(), float(low), float(high))
        for d, low, high in zip(known[day], known[lower], known[upper], strict=True)
    ]


def interval_bands(frame: pd.DataFrame | None, day: str, color: str, bars: bool = False) -> list[Band]:
    return [
        Band(f"{width} % interval", bounds(frame, day, width), color, OPACITY[width], bars=bars) for width in WIDTHS
    ]


def backtest_lines(view: dict, colors: dict) -> tuple[list[Line], list[Band]]:
    """Over the chart's periods, per horizon the champion's backtest forecasts by the forecaster of the
    region's live forecast (the model, or the naive forecaster published; the model where there is
    none), the first horizon's with its intervals; the first horizon's other naive forecasters, dashed."""
    reported, backtest, grain, forecasters = view["reported"], view["backtest"], view["grain"], view["forecasters"]
    if backtest is None or backtest.empty or reported.empty:
        return [], []
    since, first = pd.Timestamp(reported["date_day"].min()), grain.first_horizon
    shown = backtest[backtest["target_date"] >= since]
    by = {horizon: forecasters.get(horizon, "model") for horizon in grain.horizons}
    lines = [
        Line(
            f"{in_words(by[horizon])}, {grain.label(horizon)} (backtest)",
            points(shown[shown["horizon"] == horizon], "target_date", by[horizon]),
            colors[horizon],
        )
        for horizon in grain.horizons
    ]
    of_first = shown[shown["horizon"] == first]
    for name in grain.naive[:2]:  # persistence, and seasonal naive (a daily set) or the 4-week mean
        if name != by[first]:
            label = f"{in_words(name)}, {grain.label(first)} (backtest)"
            lines.append(Line(label, points(of_first, "target_date", name), COLORS[name], dashed=True))
    bounds_shown = view["backtest_bounds"][view["backtest_bounds"]["target_date"] >= since]
    return lines, interval_bands(bounds_shown, "target_date", colors[first])


def live_lines(view: dict, colors: dict) -> tuple[list[Line], list[Band]]:
    """Per horizon, the champion's live forecast named by who made it, with its intervals."""
    live, grain, lines, bands = view["live"], view["grain"], [], []
    for horizon in grain.horizons:
        of_horizon = live[live["horizon"] == horizon]
        if of_horizon.empty:
            continue
        made = of_horizon.iloc[0]  # one forecaster per version, region and horizon
        who = made_by(made["forecaster"], made["region_in_training"], view["champion"].version)
        label = f"published {grain.label(horizon)}: {who}"
        lines.append(Line(label, points(of_horizon, "date_day", "forecast"), colors[horizon], dots=True))
        bands += interval_bands(of_horizon, "date_day", colors[horizon], bars=True)
    return lines, bands


def cases_chart(view: dict) -> str:
    grain = view["grain"]
    colors = dict(zip(grain.horizons, HORIZON_COLORS, strict=False))
    backtest, backtest_bands = backtest_lines(view, colors)
    live, live_bands = live_lines(view, colors)
    reported = Line("reported", points(view["reported"], "date_day", "new_cases"), COLORS["actual"])
    chart = line_chart(
        f"New cases per {view['periods'].name}",
        "cases",
        [reported, *backtest, *live],
        "cases-chart",
        [*backtest_bands, *live_bands],
    )
    shaded = []  # what the caption says is shaded
    if any(band.points for band in backtest_bands):
        shaded.append(f"the {grain.label(grain.first_horizon)} backtest forecasts")
    if any(band.points for band in live_bands):
        shaded.append("each published forecast")
    if not shaded:
        return chart
    return chart + (
        f"<p class='caption'>Shaded: the 50 % (darker) and 95 % intervals of {' and of '.join(shaded)},"
        " from their quantiles.</p>"
    )


def accuracy_section(view: dict) -> str:
    accuracy, mae, periods = view["accuracy"], view["first_horizon_mae"], view["periods"]
    if accuracy is None or accuracy.empty:
        return "<p class='empty'>No backtest of the champion for this region yet: its accuracy is not known.</p>"
    label = view["grain"].label(view["grain"].first_horizon)
    ratio = Line("model MAE / persistence MAE", points(accuracy, "target_date", "ratio"), HORIZON_COLORS[0])
    parity = Line(
        "parity (1.0)", [(ratio.points[0][0], 1.0), (ratio.points[-1][0], 1.0)], COLORS["persistence"], dashed=True
    )
    latest = accuracy["ratio"].iloc[-1]
    verdict = "better than" if latest < 1 else "worse than"
    return (
        f"<p>Over the backtest, {label} MAE: model {mae['model']:,.1f}, persistence {mae['persistence']:,.1f}."
        f" Over the latest {periods.rolling} {periods.name}s of it the model was {verdict} persistence"
        f" (ratio {latest:.2f}).</p>"
        + line_chart(
            f"Rolling {periods.rolling}-{periods.name} MAE of the {label} forecasts, model against persistence",
            "ratio",
            [ratio, parity],
            "accuracy-chart",
        )
    )


def weather_section(view: dict) -> str:
    if not view["grain"].weather:
        return f"<p class='empty'>No weather: a {view['grain'].cadence} set's model runs without it.</p>"
    reported = view["reported"]
    temperature = Line("mean temperature", points(reported, "date_day", "temperature_mean_c"), "#dc2626")
    rain = Line("precipitation", points(reported, "date_day", "precipitation_mm"), "#0891b2")
    if not temperature.points and not rain.points:
        return "<p class='empty'>No weather for this region in these days.</p>"
    return line_chart("Mean temperature", "°C", [temperature], "temperature-chart") + line_chart(
        "Precipitation", "mm", [rain], "precipitation-chart"
    )


def share(count: int, scored: int) -> str:
    return f"{count:,} ({count / scored:.0%})"


def coverage_section(view: dict) -> str:
    """Per horizon, how many of the region's forecasts by the set's champions have been scored with
    their quantiles, and how many of their counts fell inside their 50 % and 95 % intervals."""
    coverage, grain = view["coverage"].set_index("horizon"), view["grain"]
    if coverage.empty:
        return (
            "<p class='empty' id='coverage'>Coverage of the 50 % and 95 % intervals so far: none scored yet (no"
            f" {view['periods'].name} forecast by a champion has been reported since).</p>"
        )
    rows = []
    for horizon in grain.horizons:
        if horizon not in coverage.index:
            rows.append(f"<tr><td>{grain.label(horizon)}</td><td colspan='3' class='empty'>none scored yet</td></tr>")
            continue
        scored = coverage.loc[horizon]
        rows.append(
            f"<tr><td>{grain.label(horizon)}</td><td>{scored['scored']:,}</td>"
            f"<td>{share(scored['inside_50'], scored['scored'])}</td>"
            f"<td>{share(scored['inside_95'], scored['scored'])}</td></tr>"
        )
    return (
        f"<p>Of the forecasts for this region by every version that has been the champion, those whose"
        f" {view['periods'].name} has been reported: how many counts fell inside their intervals (a calibrated"
        " forecaster's 50 % interval holds about half, its 95 % interval 19 in 20).</p>"
        "<table id='coverage'><tr><th>horizon</th><th>scored so far</th><th>inside the 50 % interval</th>"
        f"<th>inside the 95 % interval</th></tr>{''.join(rows)}</table>"
    )


def surge_section(view: dict) -> str:
    """Per live forecast with a surge probability (marts.fct_surge_warnings): the count above which its
    day would be a surge's, the chance of that, the level its version warns from, and whether it warns
    (and when the region's alert went out)."""
    live, grain, periods = view["live"], view["grain"], view["periods"]
    chances = live[live["surge_probability"].notna()]
    if chances.empty:
        return (
            "<p class='empty' id='surge'>No surge probability for this region: no forecast of the champion, or"
            " too few counts before its origin to say what a surge's rise would reach.</p>"
        )
    rows = []
    for row in chances.itertuples():
        level = "none chosen" if pd.isna(row.warning_level) else f"{row.warning_level:.0%}"
        alerted = f", alerted {row.alerted_at:%Y-%m-%d}" if pd.notna(row.alerted_at) else ""
        rows.append(
            f"<tr class='{'late' if row.surge_warned else ''}'><td>{grain.label(row.horizon)}</td>"
            f"<td>{periods.when(row.date_day)}</td><td>{row.surge_threshold:,.0f}</td>"
            f"<td>{row.surge_probability:.0%}</td><td>{level}</td>"
            f"<td>{'warning' + alerted if row.surge_warned else ''}</td></tr>"
        )
    return (
        "<p>A surge: the count rising 50 % a week. Per forecast, the chance from its quantiles that the count"
        " passes the rise's threshold, and the level its version chose on its backtest to warn from (recall"
        " first: 80 % of the surges there were warned of).</p>"
        "<table id='surge'><tr><th>horizon</th><th>target</th><th>surge above</th><th>chance</th>"
        f"<th>warns from</th><th></th></tr>{''.join(rows)}</table>"
    )


def champion_section(best, forecasters: dict[int, str]) -> str:
    if best is None:
        return "<p class='empty'>No champion yet: no model of this region's set has beaten the naive forecasters.</p>"
    settings = get_settings()
    rows = "".join(
        f"<tr><td>{escape(row['label'])}</td><td>{escape(in_words(row['forecaster']))}</td>"
        f"<td>{'not scored' if row['mae'] is None else format(row['mae'], ',.1f')}</td>"
        f"<td>{'published here' if forecasters.get(row['horizon']) == row['forecaster'] else ''}</td></tr>"
        for row in best.backtest
    )
    run = f"{settings.mlflow_ui_url.rstrip('/')}/#/runs/{best.run_id}"
    promoted = (
        f"champion since {best.promoted_at:%Y-%m-%d %H:%M} by {escape(best.promoted_by)} ({escape(best.reason or '')})"
        if best.promoted_at
        else "champion (no recorded move)"
    )
    return (
        f"<p><b>{escape(best.model_name)} v{best.version}</b>, trained on {best.training_window}; {promoted}.</p>"
        f"<table><tr><th>horizon</th><th>forecaster</th><th>backtest MAE</th><th></th></tr>{rows}</table>"
        f"<p><a href='{run}' target='_blank'>its MLflow run</a> (the model card is model_card.md among its artifacts)"
        f" · <a href='{settings.dbt_docs_url.rstrip('/')}/#!/model/model.cother.fct_forecasts' target='_blank'>"
        "marts.fct_forecasts in the dbt docs</a>"
        f" · <a href='{settings.data_docs_url.rstrip('/')}/index.html' target='_blank'>the latest validations</a></p>"
    )


def html(view: dict) -> str:
    reported, periods = view["reported"], view["periods"]
    if reported.empty:
        latest = (
            "<p class='empty'>No reported cases for this region yet: run cother_ingest (cother_ingest_weekly for"
            " a weekly set) for it.</p>"
        )
    else:
        last = reported["date_day"].max()
        behind = " (late: the source has not reported since)" if is_late(last, periods) else ""
        latest = f"<p>Latest reported {periods.name}: {periods.when(last)}{behind}.</p>"
    cadence = view["cadence"]
    latest += f"<p>Reporting: {cadence.in_words()}.</p>"
    if cadence.uncounted:
        latest += (
            "<p class='late'>Its days in that stretch have no daily count: the daily model is neither trained"
            " nor scored on them and makes no forecast from them.</p>"
        )
    if view["champion"] is not None and view["live"].empty:
        latest += "<p class='empty'>The champion has made no forecast for this region yet.</p>"
    return (
        f"<p><a href='../'>All regions</a> · set {escape(view['region_set'])}</p>{latest}"
        f"{cases_chart(view)}<h2>Surge warning</h2>{surge_section(view)}"
        f"<h2>Coverage so far</h2>{coverage_section(view)}"
        f"<h2>Accuracy</h2>{accuracy_section(view)}<h2>Weather</h2>{weather_section(view)}"
        f"<h2>The champion</h2>{champion_section(view['champion'], view['forecasters'])}"
    )


def as_json(view: dict) -> dict:
    def records(frame: pd.DataFrame | None) -> list[dict]:
        if frame is None:
            return []
        return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")

    return {
        "region": view["region"].id,
        "name": view["region"].name,
        "region_set": view["region_set"],
        "periods": view["periods"].__dict__,
        "horizons": horizons(view["grain"]),
        "cadence": view["cadence"].__dict__,
        "champion": None if view["champion"] is None else view["champion"].__dict__,
        "reported": records(view["reported"]),
        "forecasts": records(view["live"]),
        "coverage": records(view["coverage"]),
        "backtest": records(view["backtest"]),
        "accuracy": records(view["accuracy"]),
    }
