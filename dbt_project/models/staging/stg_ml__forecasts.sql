with

source as (

    select * from {{ source('ml', 'forecasts') }}

),

final as (

    select
        model_name,
        model_version::integer as model_version,
        region,
        origin_date,
        target_date as date_day,
        horizon_days,
        forecast_new_cases,
        model_alias,
        forecaster,
        region_in_training,
        created_at
    from source

)

select * from final
