with

latest as (

    {{ latest_load(source('raw', 'coronaboard_cases')) }}

),

final as (

    select
        region,
        date as date_day,
        region_name,
        confirmed as confirmed_cumulative,
        death as deaths_cumulative,
        released as released_cumulative,
        true as reported,
        source,
        batch_id,
        loaded_at
    from latest

)

select * from final
