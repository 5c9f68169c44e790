-- Every fall of a source's cumulative count: a day whose confirmed (or deaths) count is below the
-- count the same source published for the region's previous reported day. Each source's own staged
-- series is read, not the union, so a region two sources report shows each one's corrections.

with

staged as (

    select * from {{ ref('int_cases__sources_unioned') }}

),

counts as (

    select
        source,
        region,
        date_day,
        'confirmed' as count_name,
        confirmed_cumulative as value_cumulative,
        batch_id,
        loaded_at
    from staged
    where confirmed_cumulative is not null
    union all
    select
        source,
        region,
        date_day,
        'deaths' as count_name,
        deaths_cumulative as value_cumulative,
        batch_id,
        loaded_at
    from staged
    where deaths_cumulative is not null

),

with_previous as (

    select
        *,
        lag(date_day) over by_series as previous_day,
        lag(value_cumulative) over by_series as previous_value,
        lag(batch_id) over by_series as previous_batch_id
    from counts
    window by_series as (partition by source, region, count_name order by date_day)

),

final as (

    select
        source,
        region,
        date_day,
        count_name,
        previous_day as compared_day,
        previous_value as value_before,
        value_cumulative as value_after,
        previous_batch_id as batch_before,
        batch_id as batch_after,
        loaded_at as revised_at
    from with_previous
    where value_cumulative < previous_value

)

select * from final
