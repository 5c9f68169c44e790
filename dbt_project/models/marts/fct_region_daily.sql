-- Cases and weather per region and day, incremental: each run rebuilds the days from a week before
-- the latest day already in the table (late reports and revisions land there), merged on the key.

{{ config(materialized='incremental', unique_key=['region', 'date_day'], on_schema_change='fail') }}

with

daily_cases as (

    select reported.* from {{ ref('int_cases__daily_from_cumulative') }} as reported
    {% if is_incremental() %}
        where reported.date_day >= (select max(built.date_day) - 7 from {{ this }} as built)
    {% endif %}

),

weather as (

    select * from {{ ref('int_weather__daily_canonical') }}

),

final as (

    select
        daily_cases.region,
        daily_cases.date_day,
        daily_cases.confirmed_cumulative,
        daily_cases.new_cases,
        daily_cases.daily_status,
        weather.temperature_mean_c,
        weather.temperature_min_c,
        weather.temperature_max_c,
        weather.precipitation_mm,
        weather.wind_speed_mean_ms,
        weather.relative_humidity_mean_pct,
        weather.pressure_msl_hpa,
        weather.sunshine_hours,
        weather.cloud_cover_mean_pct,
        weather.weather_source
    from daily_cases
    left join weather
        on daily_cases.region = weather.region and daily_cases.date_day = weather.date_day

)

select * from final
