-- A view, like fct_forecasts: the retrain writes ml.forecast_quantiles after dbt has run. Long form, as
-- the forecast hubs collect quantiles: one row per forecast and level, beside the forecast's point and
-- the count reported since.

{{ config(materialized='view') }}

with

quantiles as (

    select * from {{ ref('stg_ml__forecast_quantiles') }}

),

forecasts as (

    select * from {{ ref('fct_forecasts') }}

),

final as (

    select
        quantiles.region,
        quantiles.date_day,
        quantiles.horizon_days,
        quantiles.origin_date,
        quantiles.model_name,
        quantiles.model_version,
        forecasts.model_alias,
        forecasts.forecaster,
        quantiles.quantile_level,
        quantiles.quantile_value,
        forecasts.forecast_new_cases,
        forecasts.actual_new_cases,
        forecasts.is_latest_version
    from quantiles
    inner join forecasts
        on
            quantiles.model_name = forecasts.model_name
            and quantiles.model_version = forecasts.model_version
            and quantiles.region = forecasts.region
            and quantiles.date_day = forecasts.date_day
            and quantiles.horizon_days = forecasts.horizon_days

)

select * from final
