with

source as (

    select * from {{ source('ml', 'forecast_quantiles') }}

),

final as (

    select
        model_name,
        model_version::integer as model_version,
        region,
        origin_date,
        target_date as date_day,
        horizon_days,
        quantile_level,
        quantile_value
    from source

)

select * from final
