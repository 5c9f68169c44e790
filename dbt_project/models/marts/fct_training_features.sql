-- Features per region and day for the next-day forecast of new cases. Every feature of a day is
-- computed from earlier days only, so the row of the day after the last report exists with its
-- features and a null target: the forecast row. Lag 7 is the anchor the model's target is relative to.

{%- set lags = range(1, 15) %}
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

region_days as (

    select
        region,
        min(date_day) as first_day,
        max(date_day) + 1 as forecast_day
    from daily_cases
    group by region

),

spine as (

    select
        region_days.region,
        calendar.day::date as date_day,
        calendar.day::date = region_days.forecast_day as is_forecast_row
    from region_days
    cross join lateral generate_series(
        region_days.first_day, region_days.forecast_day, interval '1 day'
    ) as calendar (day)

),

joined as (

    select
        spine.region,
        spine.date_day,
        spine.is_forecast_row,
        daily_cases.new_cases,
    {%- for column in weather_columns %}
        weather.{{ column }}{{ "," if not loop.last }}
    {%- endfor %}
    from spine
    left join daily_cases
        on spine.region = daily_cases.region and spine.date_day = daily_cases.date_day
    left join weather
        on spine.region = weather.region and spine.date_day = weather.date_day

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
    {%- for column in weather_columns %}
        lag({{ column }}) over by_region as {{ column }}_lag_1{{ "," if not loop.last }}
    {%- endfor %}
    from joined
    window by_region as (partition by region order by date_day)

),

final as (

    select
        region,
        date_day,
        new_cases,
        {%- for lag in lags %}
            cases_lag_{{ lag }},
        {%- endfor %}
        {%- for lag in lags if lag != 7 %}
            ln(1 + cases_lag_{{ lag }}) - ln(1 + cases_lag_7) as cases_log_ratio_lag_{{ lag }},
        {%- endfor %}
        cases_mean_7d,
        cases_mean_previous_7d,
        ln(1 + cases_mean_7d) - ln(1 + cases_mean_previous_7d) as cases_growth_7d,
        extract(isodow from date_day)::int as day_of_week,
        extract(month from date_day)::int as month_of_year,
        {%- for column in weather_columns %}
            {{ column }}_lag_1,
        {%- endfor %}
        is_forecast_row
    from lagged

)

select * from final
