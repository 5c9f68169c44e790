-- Features per region and day of the daily sets (fct_training_features_weekly: the weekly sets) for the
-- forecast of new cases. Every feature of a day is computed from earlier days only, so the row of the
-- day after the last report exists with its features and a null target: the forecast row. cases_mean_7d,
-- the mean of the 7 days before, is the anchor the next-day model's target is relative to
-- (ml/cother_ml/target.py). The region_set_ columns
-- are the same growth over the region's whole set (every province of Korea; every country of the
-- world set) on the same day: the regions lead and lag each other. They sum the lags of the set's
-- regions with a row that day, so they too read only days before the row's day.

{%- set lags = range(1, 22) %}
{%- set ratio_lags = range(1, 15) %}
{%- set day_type_lags = [1, 2, 7, 8] %}
{%- set weather_columns = [
    'temperature_mean_c', 'temperature_min_c', 'temperature_max_c', 'precipitation_mm',
    'wind_speed_mean_ms', 'relative_humidity_mean_pct', 'pressure_msl_hpa',
    'sunshine_hours', 'cloud_cover_mean_pct'
] %}

with

daily_cases as (

    select * from {{ ref('int_cases__daily_from_cumulative') }}

),

weather as (

    select * from {{ ref('int_weather__daily_canonical') }}

),

calendar as (

    select * from {{ ref('int_calendar__days_classified') }}

),

regions as (

    select * from {{ source('raw', 'regions') }}

),

spine as (

    {{ region_spine('daily_cases', 'regions', 'daily', 1) }}

),

joined as (

    select
        spine.region,
        spine.date_day,
        spine.is_forecast_row,
        daily_cases.new_cases,
        ln(1 + daily_cases.new_cases) as log_cases,
        calendar.day_type,
        calendar.is_public_holiday::int as is_public_holiday,
    {%- for column in weather_columns %}
        weather.{{ column }}{{ "," if not loop.last }}
    {%- endfor %}
    from spine
    left join daily_cases
        on spine.region = daily_cases.region and spine.date_day = daily_cases.date_day
    left join weather
        on spine.region = weather.region and spine.date_day = weather.date_day
    left join calendar
        on spine.date_day = calendar.date_day

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
        avg(new_cases) over (by_region rows between 7 preceding and 1 preceding) as cases_mean_7d,
        avg(new_cases) over (by_region rows between 14 preceding and 8 preceding) as cases_mean_previous_7d,
        avg(new_cases) over (by_region rows between 21 preceding and 15 preceding) as cases_mean_7d_two_weeks_before,
        avg(new_cases) over (by_region rows between 3 preceding and 1 preceding) as cases_mean_3d,
        avg(new_cases) over (by_region rows between 6 preceding and 4 preceding) as cases_mean_previous_3d,
        stddev_samp(log_change) over (by_region rows between 7 preceding and 1 preceding) as cases_volatility_7d,
        day_type,
        {%- for lag in day_type_lags %}
            lag(day_type, {{ lag }}) over by_region as day_type_lag_{{ lag }},
        {%- endfor %}
        lag(is_public_holiday, 1) over by_region as is_holiday_lag_1,
        lag(is_public_holiday, 8) over by_region as is_holiday_lag_8,
        sum(is_public_holiday) over (by_region rows between 7 preceding and 1 preceding) as holidays_last_7d,
        sum(is_public_holiday) over (by_region rows between 14 preceding and 8 preceding) as holidays_previous_7d,
    {%- for column in weather_columns %}
        lag({{ column }}) over by_region as {{ column }}_lag_1{{ "," if not loop.last }}
    {%- endfor %}
    from changes
    window by_region as (partition by region order by date_day)

),

set_sums as (

    select
        lagged.*,
        regions.region_set,
        sum(lagged.cases_lag_1) over by_set_day as set_cases_lag_1,
        sum(lagged.cases_mean_3d) over by_set_day as set_cases_mean_3d,
        sum(lagged.cases_mean_previous_3d) over by_set_day as set_cases_mean_previous_3d,
        sum(lagged.cases_mean_7d) over by_set_day as set_cases_mean_7d,
        sum(lagged.cases_mean_previous_7d) over by_set_day as set_cases_mean_previous_7d,
        sum(lagged.cases_mean_7d_two_weeks_before) over by_set_day as set_cases_mean_7d_two_weeks_before
    from lagged
    left join regions on lagged.region = regions.region
    window by_set_day as (partition by regions.region_set, lagged.date_day)

),

final as (

    select
        region,
        date_day,
        new_cases,
        {%- for lag in lags %}
            cases_lag_{{ lag }},
        {%- endfor %}
        {%- for lag in ratio_lags if lag != 7 %}
            ln(1 + cases_lag_{{ lag }}) - ln(1 + cases_lag_7) as cases_log_ratio_lag_{{ lag }},
        {%- endfor %}
        cases_mean_7d,
        cases_mean_previous_7d,
        cases_mean_7d_two_weeks_before,
        ln(1 + cases_mean_7d) - ln(1 + cases_mean_previous_7d) as cases_growth_7d,
        ln(1 + cases_mean_previous_7d) - ln(1 + cases_mean_7d_two_weeks_before) as cases_growth_7d_previous,
        ln(1 + cases_lag_1) - ln(1 + cases_mean_7d) as cases_log_ratio_lag_1_to_mean_7d,
        ln(1 + cases_lag_7) - ln(1 + cases_mean_7d) as cases_weekly_cycle_1,
        ln(1 + cases_lag_14) - ln(1 + cases_mean_previous_7d) as cases_weekly_cycle_2,
        ln(1 + cases_lag_21) - ln(1 + cases_mean_7d_two_weeks_before) as cases_weekly_cycle_3,
        (
            ln(1 + cases_lag_7) - ln(1 + cases_mean_7d)
            + ln(1 + cases_lag_14) - ln(1 + cases_mean_previous_7d)
            + ln(1 + cases_lag_21) - ln(1 + cases_mean_7d_two_weeks_before)
        ) / 3 as cases_weekly_cycle_mean,
        ln(1 + cases_lag_7) - ln(1 + cases_lag_8) as cases_day_change_lag_7,
        ln(1 + cases_lag_14) - ln(1 + cases_lag_15) as cases_day_change_lag_14,
        cases_volatility_7d,
        ln(1 + set_cases_mean_7d) - ln(1 + set_cases_mean_previous_7d) as region_set_growth_7d,
        ln(1 + set_cases_mean_previous_7d) - ln(1 + set_cases_mean_7d_two_weeks_before)
            as region_set_growth_7d_previous,
        ln(1 + set_cases_mean_3d) - ln(1 + set_cases_mean_previous_3d) as region_set_growth_3d,
        ln(1 + set_cases_lag_1) - ln(1 + set_cases_mean_7d) as region_set_log_ratio_lag_1_to_mean_7d,
        extract(isodow from date_day)::int as day_of_week,
        day_type,
        {%- for lag in day_type_lags %}
            day_type_lag_{{ lag }},
        {%- endfor %}
        is_holiday_lag_1,
        is_holiday_lag_8,
        holidays_last_7d,
        holidays_previous_7d,
        {%- for column in weather_columns %}
            {{ column }}_lag_1,
        {%- endfor %}
        is_forecast_row
    from set_sums

)

select * from final
