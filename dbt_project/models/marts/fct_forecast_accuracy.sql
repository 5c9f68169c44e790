-- Every forecast scored once its actual is in, beside persistence's forecast of the same day (the
-- count reported on the forecast's origin day), with the rolling 28-day MAE of both and their ratio
-- per model version, region and horizon. A view, like fct_forecasts: the retrain writes ml.forecasts
-- after dbt has run. cother/transform/field_accuracy.py alerts on the last 14 scored days.

{{ config(materialized='view') }}

with

reported_forecasts as (

    select * from {{ ref('fct_forecasts') }}
    where actual_new_cases is not null

),

origin_counts as (

    select
        region,
        date_day as origin_date,
        new_cases::double precision as persistence_new_cases
    from {{ ref('fct_region_daily') }}
    where new_cases is not null

),

scored as (

    select
        reported_forecasts.region,
        reported_forecasts.date_day,
        reported_forecasts.horizon_days,
        reported_forecasts.origin_date,
        reported_forecasts.model_name,
        reported_forecasts.model_version,
        reported_forecasts.model_alias,
        reported_forecasts.forecaster,
        reported_forecasts.forecast_new_cases,
        reported_forecasts.actual_new_cases,
        reported_forecasts.absolute_error,
        origin_counts.persistence_new_cases,
        abs(origin_counts.persistence_new_cases - reported_forecasts.actual_new_cases) as persistence_absolute_error
    from reported_forecasts
    inner join origin_counts
        on
            reported_forecasts.region = origin_counts.region
            and reported_forecasts.origin_date = origin_counts.origin_date

),

rolling as (

    select
        *,
        count(*) over last_28_days as scored_days_28d,
        avg(absolute_error) over last_28_days as mae_28d,
        avg(persistence_absolute_error) over last_28_days as persistence_mae_28d
    from scored
    window last_28_days as (
        partition by model_name, model_version, region, horizon_days
        order by date_day
        range between interval '27 days' preceding and current row
    )

),

final as (

    select
        *,
        mae_28d / nullif(persistence_mae_28d, 0) as mae_ratio_28d
    from rolling

)

select * from final
