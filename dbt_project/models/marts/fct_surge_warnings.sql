-- A view, like fct_forecasts: the retrain writes ml.surge_warnings after dbt has run, and readers should
-- see a warning at once. One row per forecast: the probability that the count rises at a surge's pace by
-- its day, the level its version chose for the horizon and whether it warned; beside them the forecast,
-- when the region's warning from that origin went out through the alert channel, and the count reported
-- since with whether it passed the threshold.

{{ config(materialized='view') }}

with

warnings as (

    select * from {{ ref('stg_ml__surge_warnings') }}

),

forecasts as (

    select * from {{ ref('fct_forecasts') }}

),

alerts as (

    select * from {{ ref('stg_ml__surge_alerts') }}

),

final as (

    select
        warnings.region,
        warnings.date_day,
        warnings.horizon_days,
        warnings.origin_date,
        warnings.model_name,
        warnings.model_version,
        forecasts.model_alias,
        forecasts.forecast_new_cases,
        warnings.surge_threshold,
        warnings.surge_probability,
        warnings.warning_level,
        warnings.is_warned,
        alerts.alerted_at,
        forecasts.actual_new_cases,
        forecasts.actual_new_cases > warnings.surge_threshold as is_above_threshold,
        forecasts.is_latest_version
    from warnings
    inner join forecasts
        on
            warnings.model_name = forecasts.model_name
            and warnings.model_version = forecasts.model_version
            and warnings.region = forecasts.region
            and warnings.date_day = forecasts.date_day
            and warnings.horizon_days = forecasts.horizon_days
    left join alerts
        on
            warnings.is_warned
            and warnings.model_name = alerts.model_name
            and warnings.model_version = alerts.model_version
            and warnings.region = alerts.region
            and warnings.origin_date = alerts.origin_date

)

select * from final
