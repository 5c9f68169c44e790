-- A view, not a table: the retrain writes ml.forecasts after dbt has run, and consumers should see
-- those forecasts at once, next to the counts reported since.

{{ config(materialized='view') }}

with

forecasts as (

    select * from {{ ref('stg_ml__forecasts') }}

),

reported as (

    select
        region,
        date_day,
        new_cases
    from {{ ref('fct_region_daily') }}

),

final as (

    select
        forecasts.region,
        forecasts.date_day,
        forecasts.horizon_days,
        forecasts.origin_date,
        forecasts.model_name,
        forecasts.model_version,
        forecasts.model_alias,
        forecasts.forecaster,
        forecasts.region_in_training,
        forecasts.forecast_new_cases,
        reported.new_cases as actual_new_cases,
        abs(forecasts.forecast_new_cases - reported.new_cases) as absolute_error,
        forecasts.model_version = max(forecasts.model_version) over (
            partition by forecasts.model_name, forecasts.region, forecasts.date_day, forecasts.horizon_days
        ) as is_latest_version,
        forecasts.created_at
    from forecasts
    left join reported
        on forecasts.region = reported.region and forecasts.date_day = reported.date_day

)

select * from final
