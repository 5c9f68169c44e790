with

latest as (

    {{ latest_load(source('raw', 'jhu_covid_cases')) }}

),

final as (

    select
        region,
        date as date_day,
        country_region as region_name,
        confirmed as confirmed_cumulative,
        deaths as deaths_cumulative,
        null::bigint as released_cumulative,
        true as reported,
        source,
        batch_id,
        loaded_at
    from latest

)

select * from final
