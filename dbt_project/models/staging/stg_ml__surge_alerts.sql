with

source as (

    select * from {{ source('ml', 'surge_alerts') }}

),

final as (

    select
        model_name,
        model_version::integer as model_version,
        region,
        origin_date,
        alerted_at
    from source

)

select * from final
