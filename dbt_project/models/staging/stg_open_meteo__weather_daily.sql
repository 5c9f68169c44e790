with

latest as (

    {{ latest_load(source('raw', 'open_meteo_daily')) }}

),

final as (

    select
        region,
        date as date_day,
        null::text as station_id,
        temperature_2m_mean as temperature_mean_c,
        temperature_2m_min as temperature_min_c,
        temperature_2m_max as temperature_max_c,
        precipitation_sum as precipitation_mm,
        wind_speed_10m_mean as wind_speed_mean_ms,
        wind_speed_10m_max as wind_speed_max_ms,
        relative_humidity_2m_mean as relative_humidity_mean_pct,
        dew_point_2m_mean as dew_point_mean_c,
        pressure_msl_mean as pressure_msl_hpa,
        sunshine_duration / 3600.0 as sunshine_hours,
        cloud_cover_mean as cloud_cover_mean_pct,
        source,
        batch_id,
        loaded_at
    from latest

)

select * from final
