-- Features per region and week of the weekly sets (config/regions, cadence: weekly) for the forecast of
-- each week's new cases, 1 to 4 weeks ahead: a row per Sunday, the day a week of WHO's weekly file ends
-- on. As in fct_training_features, every feature of a week is computed from earlier weeks only, so the
-- row of the week after the last report exists with its features and a null target: the forecast row.
-- cases_lag_<k> is the count k weeks before the row's week; cases_mean_4w, the mean of the 4 weeks
-- before, is the anchor the model's target is relative to (ml/cother_ml/target.py); the region_set_ columns
-- are the same growth over the region's whole set in the same week. Weekly sets run without weather.

{%- set lags = range(1, 9) %}

with

weekly_cases as (

    select * from {{ ref('int_cases__daily_from_cumulative') }}

),

regions as (

    select * from {{ source('raw', 'regions') }}

),

spine as (

    {{ region_spine('weekly_cases', 'regions', 'weekly', 7) }}

),

joined as (

    select
        spine.region,
        spine.date_day,
        spine.is_forecast_row,
        weekly_cases.new_cases,
        ln(1 + weekly_cases.new_cases) as log_cases
    from spine
    left join weekly_cases
        on spine.region = weekly_cases.region and spine.date_day = weekly_cases.date_day

),

changes as (

    select
        *,
        log_cases - lag(log_cases) over (partition by region order by date_day) as log_change
    from joined

),

lagged as (

    select
        region,
        date_day,
        is_forecast_row,
        new_cases,
        {%- for lag in lags %}
            lag(new_cases, {{ lag }}) over by_region as cases_lag_{{ lag }},
        {%- endfor %}
        avg(new_cases) over (by_region rows between 4 preceding and 1 preceding) as cases_mean_4w,
        avg(new_cases) over (by_region rows between 8 preceding and 5 preceding) as cases_mean_previous_4w,
        stddev_samp(log_change) over (by_region rows between 4 preceding and 1 preceding) as cases_volatility_4w
    from changes
    window by_region as (partition by region order by date_day)

),

set_sums as (

    select
        lagged.*,
        sum(lagged.cases_lag_1) over by_set_week as set_cases_lag_1,
        sum(lagged.cases_lag_2) over by_set_week as set_cases_lag_2,
        sum(lagged.cases_mean_4w) over by_set_week as set_cases_mean_4w,
        sum(lagged.cases_mean_previous_4w) over by_set_week as set_cases_mean_previous_4w,
        regions.region_set
    from lagged
    left join regions on lagged.region = regions.region
    window by_set_week as (partition by regions.region_set, lagged.date_day)

),

final as (

    select
        region,
        date_day,
        new_cases,
        {%- for lag in lags %}
            cases_lag_{{ lag }},
        {%- endfor %}
        {%- for lag in lags if lag > 1 %}
            ln(1 + cases_lag_{{ lag }}) - ln(1 + cases_lag_1) as cases_log_ratio_lag_{{ lag }},
        {%- endfor %}
        cases_mean_4w,
        cases_mean_previous_4w,
        ln(1 + cases_lag_1) - ln(1 + cases_lag_2) as cases_growth_1w,
        ln(1 + cases_mean_4w) - ln(1 + cases_mean_previous_4w) as cases_growth_4w,
        ln(1 + cases_lag_1) - ln(1 + cases_mean_4w) as cases_log_ratio_lag_1_to_mean_4w,
        cases_volatility_4w,
        ln(1 + set_cases_lag_1) - ln(1 + set_cases_lag_2) as region_set_growth_1w,
        ln(1 + set_cases_mean_4w) - ln(1 + set_cases_mean_previous_4w) as region_set_growth_4w,
        ln(1 + set_cases_lag_1) - ln(1 + set_cases_mean_4w) as region_set_log_ratio_lag_1_to_mean_4w,
        extract(week from date_day)::int as week_of_year,
        is_forecast_row
    from set_sums

)

select * from final
