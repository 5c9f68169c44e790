with

source as (

    select * from {{ source('raw', 'coronaboard_cases') }}

),

latest as (

    select
        *,
        row_number() over (
            partition by region, date
            order by loaded_at desc, batch_id desc
        ) as recency
    from source

),

final as (

    select
        region,
        date as date_day,
        region_name,
        confirmed as confirmed_cumulative,
        death as deaths_cumulative,
        released as released_cumulative,
        source,
        batch_id,
        loaded_at
    from latest
    where recency = 1

)

select * from final
