-- Every forecast scored once its actual is in, beside persistence's forecast of the same day (the
-- count reported on the forecast's origin day), with the rolling 28-day MAE of both and their ratio
-- per model version, region and horizon; and where its quantiles were written, its weighted interval
-- score (the mean pinball loss over the 23 levels times 2: sum / (K + 1/2) with K = 11 intervals) and
-- whether the actual fell in its 50 % and 95 % intervals. A view, like fct_forecasts: the retrain writes
-- ml.forecasts after dbt has run. cother/transform/field_accuracy.py alerts on the last 14 scored days
-- (MAE) and the last 28 with quantiles (95 % coverage).

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

quantile_bounds as (

    select
        model_name,
        model_version,
        region,
        date_day,
        horizon_days,
        sum(
            (case when actual_new_cases < quantile_value then 1 else 0 end - quantile_level)
            * (quantile_value - actual_new_cases)
        ) / (count(*) / 2.0) as wis,
        max(quantile_value) filter (where quantile_level = 0.25) as lower_50,
        max(quantile_value) filter (where quantile_level = 0.75) as upper_50,
        max(quantile_value) filter (where quantile_level = 0.025) as lower_95,
        max(quantile_value) filter (where quantile_level = 0.975) as upper_95,
        max(actual_new_cases) as actual_new_cases
    from {{ ref('fct_forecast_quantiles') }}
    where actual_new_cases is not null
    group by model_name, model_version, region, date_day, horizon_days

),

quantile_scores as (

    select
        model_name,
        model_version,
        region,
        date_day,
        horizon_days,
        wis,
        actual_new_cases between lower_50 and upper_50 as covered_50,
        actual_new_cases between lower_95 and upper_95 as covered_95
    from quantile_bounds

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
        abs(origin_counts.persistence_new_cases - reported_forecasts.actual_new_cases) as persistence_absolute_error,
        quantile_scores.wis,
        quantile_scores.covered_50,
        quantile_scores.covered_95
    from reported_forecasts
    inner join origin_counts
        on
            reported_forecasts.region = origin_counts.region
            and reported_forecasts.origin_date = origin_counts.origin_date
    left join quantile_scores
        on
            reported_forecasts.model_name = quantile_scores.model_name
            and reported_forecasts.model_version = quantile_scores.model_version
            and reported_forecasts.region = quantile_scores.region
            and reported_forecasts.date_day = quantile_scores.date_day
            and reported_forecasts.horizon_days = quantile_scores.horizon_days

),

rolling as (

    select
        *,
        count(*) over last_28_days as scored_days_28d,
        avg(absolute_error) over last_28_days as mae_28d,
        avg(persistence_absolute_error) over last_28_days as persistence_mae_28d,
        avg(covered_95::integer) over last_28_days as coverage_95_28d
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
