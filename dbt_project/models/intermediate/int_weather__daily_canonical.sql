-- One canonical weather row per region and day across the weather sources (all staged in the same
-- units: °C, mm, m/s, %, hPa, hours). A station observation (KMA) wins over a model grid point
-- (Open-Meteo) for the same day.

with

observations as (

    select
        *,
        1 as source_rank
    from {{ ref('stg_kma__weather_daily') }}

),

grid as (

    select
        *,
        2 as source_rank
    from {{ ref('stg_open_meteo__weather_daily') }}

),

unioned as (

    select * from observations
    union all
    select * from grid

),

ranked as (

    select
        *,
        row_number() over (partition by region, date_day order by source_rank) as preference
    from unioned

),

final as (

    select
        region,
        date_day,
        temperature_mean_c,
        temperature_min_c,
        temperature_max_c,
        precipitation_mm,
        wind_speed_mean_ms,
        wind_speed_max_ms,
        relative_humidity_mean_pct,
        dew_point_mean_c,
        pressure_msl_hpa,
        sunshine_hours,
        cloud_cover_mean_pct,
        source as weather_source,
        station_id,
        batch_id
    from ranked
    where preference = 1

)

select * from final
