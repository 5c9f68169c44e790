with

latest as (

    {{ latest_load(source('raw', 'kma_asos_daily')) }}

),

final as (

    select
        region,
        date as date_day,
        stn_id as station_id,
        avgta as temperature_mean_c,
        minta as temperature_min_c,
        maxta as temperature_max_c,
        sumrn as precipitation_mm,
        avgws as wind_speed_mean_ms,
        maxws as wind_speed_max_ms,
        avgrhm as relative_humidity_mean_pct,
        avgtd as dew_point_mean_c,
        avgps as pressure_msl_hpa,
        sumsshr as sunshine_hours,
        avgtca * 10 as cloud_cover_mean_pct,
        source,
        batch_id,
        loaded_at
    from latest

)

select * from final
