with

source as (

    select * from {{ source('ml', 'surge_warnings') }}

),

final as (

    select
        model_name,
        model_version::integer as model_version,
        region,
        origin_date,
        target_date as date_day,
        horizon_days,
        surge_threshold,
        surge_probability,
        warning_level,
        is_warned
    from source

)

select * from final
