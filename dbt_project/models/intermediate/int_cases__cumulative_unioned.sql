-- The cumulative case series of every case source, one row per region and day: where two sources
-- report the same region and day, the most recently loaded row wins.

with

unioned as (

    select * from {{ ref('int_cases__sources_unioned') }}

),

ranked as (

    select
        *,
        row_number() over (partition by region, date_day order by loaded_at desc, source asc) as recency
    from unioned

),

final as (

    select
        region,
        date_day,
        confirmed_cumulative,
        deaths_cumulative,
        reported,
        source as cases_source,
        batch_id
    from ranked
    where recency = 1

)

select * from final
