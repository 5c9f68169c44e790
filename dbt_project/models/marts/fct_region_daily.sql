-- Cases and weather per region and day, incremental, merged on the key. Each run rebuilds the days
-- from a week before the latest day already in the table and, for each region, every day from the
-- first one that is new or whose cases or weather row upstream came from another batch than the one
-- it was built from (a late report, a backfill, a source restating an older range), so that the
-- table is what a full refresh would give. A batch id names the landed payload's bytes: a row from the
-- same batch has the same values. A table built before the batch columns existed gets them (null), so
-- its next run rebuilds every day rather than failing.

{{ config(materialized='incremental', unique_key=['region', 'date_day'], on_schema_change='append_new_columns') }}

with

daily_cases as (

    select * from {{ ref('int_cases__daily_from_cumulative') }}

),

cumulative as (

    select * from {{ ref('int_cases__cumulative_unioned') }}

),

weather as (

    select * from {{ ref('int_weather__daily_canonical') }}

),

{% if is_incremental() %}

    republished as (

        select
            cumulative.region,
            min(cumulative.date_day) as first_day
        from cumulative
        left join weather
            on cumulative.region = weather.region and cumulative.date_day = weather.date_day
        left join {{ this }} as built
            on cumulative.region = built.region and cumulative.date_day = built.date_day
        where
            built.region is null
            or cumulative.batch_id is distinct from built.cases_batch_id
            or weather.batch_id is distinct from built.weather_batch_id
        group by cumulative.region

    ),

{% endif %}

rebuilt_cases as (

    select daily_cases.* from daily_cases
    {% if is_incremental() %}
        left join republished on daily_cases.region = republished.region
        where
            daily_cases.date_day >= (select max(built.date_day) - 7 from {{ this }} as built)
            or daily_cases.date_day >= republished.first_day
    {% endif %}

),

final as (

    select
        rebuilt_cases.region,
        rebuilt_cases.date_day,
        rebuilt_cases.confirmed_cumulative,
        rebuilt_cases.new_cases,
        rebuilt_cases.daily_status,
        weather.temperature_mean_c,
        weather.temperature_min_c,
        weather.temperature_max_c,
        weather.precipitation_mm,
        weather.wind_speed_mean_ms,
        weather.relative_humidity_mean_pct,
        weather.pressure_msl_hpa,
        weather.sunshine_hours,
        weather.cloud_cover_mean_pct,
        weather.weather_source,
        cumulative.batch_id as cases_batch_id,
        weather.batch_id as weather_batch_id
    from rebuilt_cases
    left join cumulative
        on rebuilt_cases.region = cumulative.region and rebuilt_cases.date_day = cumulative.date_day
    left join weather
        on rebuilt_cases.region = weather.region and rebuilt_cases.date_day = weather.date_day

)

select * from final
