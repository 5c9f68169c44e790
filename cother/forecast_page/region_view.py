"""One region on the Forecasts page, in the periods of its set (days, or weeks ending on Sunday): its
counts beside the champion's forecasts and the baselines', the rolling accuracy against persistence,
the weather with its units, and the champion with its links."""

from __future__ import annotations

from html import escape

import pandas as pd

from cother.forecast_page.charts import Line, line_chart
from cother.forecast_page.data import horizons, is_late
from cother_core.settings import get_settings

COLORS = {"actual": "#111827", "persistence": "#9ca3af", "seasonal_naive": "#a78bfa", "mean_4w": "#a78bfa"}
HORIZON_COLORS = ["#2563eb", "#ea580c", "#16a34a", "#9333ea"]  # a set's horizons, in order


def points(frame: pd.DataFrame | None, day: str, value: str) -> list[tuple]:
    if frame is None or frame.empty:
        return []
    known = frame.dropna(subset=[value]).sort_values(day)
    return [(pd.Timestamp(d).date(), float(v)) for d, v in zip(known[day], known[value], strict=True)]


def cases_chart(view: dict) -> str:
    reported, live, backtest, grain = view["reported"], view["live"], view["backtest"], view["grain"]
    colors = dict(zip(grain.horizons, HORIZON_COLORS, strict=False))
    lines = [Line("reported", points(reported, "date_day", "new_cases"), COLORS["actual"])]
    if backtest is not None and not backtest.empty and not reported.empty:
        shown = backtest[backtest["target_date"] >= pd.Timestamp(reported["date_day"].min())]
        for horizon in grain.horizons:
            of_horizon = shown[shown["horizon"] == horizon]
            label = f"model, {grain.label(horizon)} (backtest)"
            lines.append(Line(label, points(of_horizon, "target_date", "model"), colors[horizon]))
        first = shown[shown["horizon"] == grain.first_horizon]
        for name in grain.naive[:2]:  # persistence, and seasonal naive (a daily set) or the 4-week mean
            lines.append(Line(name.replace("_", " "), points(first, "target_date", name), COLORS[name], dashed=True))
    for horizon in grain.horizons:
        of_horizon = live[live["horizon"] == horizon]
        label = f"forecast, {grain.label(horizon)}"
        lines.append(Line(label, points(of_horizon, "date_day", "forecast"), colors[horizon], dots=True))
    return line_chart(f"New cases per {view['periods'].name}", "cases", lines, "cases-chart")


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


def champion_section(best) -> str:
    if best is None:
        return "<p class='empty'>No champion yet: no model of this region's set has beaten the naive forecasters.</p>"
    settings = get_settings()
    rows = "".join(
        f"<tr><td>{escape(row['label'])}</td><td>{escape(row['forecaster'])}</td>"
        f"<td>{'not scored' if row['mae'] is None else format(row['mae'], ',.1f')}</td></tr>"
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
        f"<table><tr><th>horizon</th><th>forecaster</th><th>backtest MAE</th></tr>{rows}</table>"
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
        f"{cases_chart(view)}<h2>Accuracy</h2>{accuracy_section(view)}"
        f"<h2>Weather</h2>{weather_section(view)}<h2>The champion</h2>{champion_section(view['champion'])}"
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
        "backtest": records(view["backtest"]),
        "accuracy": records(view["accuracy"]),
    }
