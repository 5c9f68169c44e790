"""The Forecasts page: a FastAPI app that Airflow's API server mounts at /forecasts/ (plugins/cother_ui.py)
and the UI shows in its navigation. Every route asks for Airflow's login: the session cookie the UI
set, or an API token; without one it answers 401, with a bad one 403.

Routes: `/` every region at a glance, `/regions/{region}` one region in detail, and the same as JSON
under `/api/`. What they read is in cother/forecast_page/data.py; the charts are SVG drawn here.
The pandas, MLflow and SQL behind them are imported at the first request, not where Airflow loads its
plugins (every task process does).
"""

from __future__ import annotations

import re
from html import escape

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse

COOKIE = "_token"  # where Airflow's UI keeps the session's token (airflow.api_fastapi.auth.managers)


async def signed_in(request: Request) -> None:
    """Airflow's own check of a token (bearer header first, else the UI's session cookie)."""
    from airflow.api_fastapi.core_api.security import resolve_user_from_token

    header = request.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(COOKIE)
    await resolve_user_from_token(token)  # HTTPException 401 without a token, 403 with an invalid one


app = FastAPI(title="CO-THER forecasts", dependencies=[Depends(signed_in)])

STYLE = """
body { font-family: system-ui, sans-serif; margin: 16px; color: #1f2933; }
table { border-collapse: collapse; margin: 8px 0 20px; }
th, td { border-bottom: 1px solid #d9dee3; padding: 4px 10px; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
.frame { max-width: 100%; overflow-x: auto; }  /* a table wider than the window scrolls in its frame */
.value, .change, .day { white-space: nowrap; } .value { font-weight: 600; } .by { font-size: 12px; color: #4b5563; }
.caption { font-size: 12px; color: #4b5563; margin-top: 0; }
.late { color: #b42318; } .empty { color: #6b7280; font-style: italic; }
.surge { color: #b42318; font-size: 12px; font-weight: 600; }
.chart .axis { stroke: #6b7280; } .chart .grid { stroke: #eef0f2; }
.chart .tick, .chart .legend { font-size: 11px; fill: #374151; } .chart .title { font-size: 13px; font-weight: 600; }
"""


def page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def number(value) -> str:
    return "" if value is None or value != value else f"{value:,.0f}"


def percent(value) -> str:
    return "" if value is None else f"{value:+.0%}"


def champion_line(best) -> str:
    if best is None:
        return "<p class='empty'>No champion yet: no model of this set has beaten the naive forecasters.</p>"
    promoted = (
        f", champion since {best.promoted_at:%Y-%m-%d %H:%M} by {escape(best.promoted_by)}" if best.promoted_at else ""
    )
    return f"<p>Champion: <b>{escape(best.model_name)} v{best.version}</b>, trained on {best.training_window}{promoted}.</p>"


DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def unbroken(text: str) -> str:
    """The text escaped, each day in it (2026-04-19) kept on one line where a table cell wraps."""
    return DAY.sub(r"<span class='day'>\g<0></span>", escape(text))


def when(periods, day) -> str:
    """A count's day, or its week ("week to 2026-04-19"), kept on one line where a table cell wraps."""
    return f"<span class='day'>{periods.when(day)}</span>"


def forecast_cell(horizon: int, forecast: dict | None, missing: str, periods) -> str:
    """A region's forecast at one horizon: the count, its change where it can differ, its target day
    (or week), who made it and, when it warns of a surge, the chance of one; or why there is none."""
    if forecast is None:
        return f"<td class='empty' data-horizon='{horizon}'>{missing}</td>"
    change = "" if forecast["change"] is None else f" <span class='change'>{percent(forecast['change'])}</span>"
    surge = (
        f"<div class='surge'>surge warning: {forecast['surge_probability']:.0%} chance</div>"
        if forecast["surge_warned"]
        else ""
    )
    return (
        f"<td data-horizon='{horizon}'><span class='value'>{number(forecast['forecast'])}</span>{change}"
        f"<div class='by'>{when(periods, forecast['date'])} · {escape(forecast['made_by'])}</div>{surge}</td>"
    )


def overview_html(view: dict) -> str:
    """Per region set, who made the forecasts of each horizon, then a row per region: per horizon of the
    set, its forecast (forecast_cell), the latest count, how the region reports, its open quarantine. A
    table too wide for the window scrolls inside its frame."""
    parts = []
    for region_set in view["sets"]:
        periods, horizons = region_set["periods"], region_set["horizons"]
        rows = []
        for region in region_set["regions"]:
            cadence = region["cadence"]
            missing = "not forecast: no daily counts" if cadence.uncounted else "no forecast yet"
            cells = "".join(
                forecast_cell(h["horizon_days"], region["forecasts"].get(h["horizon_days"]), missing, periods)
                for h in horizons
            )
            latest = region["latest_day"]
            latest_cell = (
                "no data yet" if latest is None else when(periods, latest) + (" (late)" if region["late"] else "")
            )
            held = region["open_quarantine"]
            rows.append(
                f"<tr data-region='{escape(region['region'])}'><td><a href='regions/{escape(region['region'])}'>"
                f"{escape(region['name'])}</a></td>{cells}"
                f"<td class='{'late' if region['late'] else ''}'>{latest_cell}</td>"
                f"<td class='{'late' if cadence.uncounted else ''}'>{unbroken(cadence.in_words())}</td>"
                f"<td>{f'{held} batch(es)' if held else ''}</td></tr>"
            )
        made = "; ".join(
            f"{h['label']}: {escape(region_set['published'][h['horizon_days']])}"
            for h in horizons
            if region_set["published"].get(h["horizon_days"])
        )
        name = escape(region_set["region_set"])
        labels = ", ".join(h["label"] for h in horizons)
        header = "".join(f"<th>{escape(h['label'])}</th>" for h in horizons)
        parts.append(
            f"<section data-set='{name}'><h2 id='{name}'>{name}</h2><p>New cases per {periods.name}. Per horizon ({labels}), each region's"
            f" forecast, its change {escape(periods.compared)} where it can differ, its target {periods.name}"
            " and who made it; a surge warning where the champion warns of one.</p>"
            + (f"<p class='made-by'>Made by: {made}.</p>" if made else "")
            + champion_line(region_set["champion"])
            + f"<div class='frame'><table data-set='{name}'><tr><th>region</th>{header}<th>latest data</th>"
            f"<th>reporting</th><th>open quarantine</th></tr>{''.join(rows)}</table></div></section>"
        )
    return "".join(parts)


@app.get("/", response_class=HTMLResponse)
def overview_page() -> HTMLResponse:
    from cother.forecast_page import data

    return page("Forecasts", overview_html(data.overview()))


@app.get("/api/overview")
def overview_json() -> JSONResponse:
    from fastapi.encoders import jsonable_encoder

    from cother.forecast_page import data

    view = data.overview()
    for region_set in view["sets"]:
        best = region_set["champion"]
        region_set["champion"] = None if best is None else best.__dict__
    return JSONResponse(jsonable_encoder(view))


def unknown(region_id: str) -> HTTPException:
    from cother_core.regions import all_regions

    return HTTPException(404, f"unknown region {region_id!r}; the regions are: {', '.join(sorted(all_regions()))}")


def detail(region_id: str) -> dict:
    """A region's view (cother.forecast_page.data.detail), or 404 naming the regions."""
    from cother.forecast_page import data

    try:
        return data.detail(region_id)
    except data.UnknownRegion:
        raise unknown(region_id) from None


@app.get("/regions/{region_id}", response_class=HTMLResponse)
def region_page(region_id: str) -> HTMLResponse:
    from cother.forecast_page import region_view

    view = detail(region_id)
    return page(f"Forecasts: {view['region'].name}", region_view.html(view))


@app.get("/api/regions/{region_id}")
def region_json(region_id: str) -> JSONResponse:
    from fastapi.encoders import jsonable_encoder

    from cother.forecast_page import region_view

    return JSONResponse(jsonable_encoder(region_view.as_json(detail(region_id))))
