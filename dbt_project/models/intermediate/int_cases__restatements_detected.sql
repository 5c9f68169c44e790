-- Every restatement of a day by a source: a count of a published row that a later publish replaced
-- with a different value. A replaced day's versions are its replaced rows in the order they were
-- replaced, then its current row; each version is compared with the one that replaced it.

with

replaced as (

    select * from {{ ref('stg_raw__replaced_cases') }}

),

staged as (

    select * from {{ ref('int_cases__sources_unioned') }}

),

versions as (

    select
        source,
        region,
        date_day,
        replacement_id,
        confirmed_cumulative,
        deaths_cumulative,
        batch_id,
        loaded_at
    from replaced
    union all
    select
        staged.source,
        staged.region,
        staged.date_day,
        null::bigint as replacement_id,
        staged.confirmed_cumulative,
        staged.deaths_cumulative,
        staged.batch_id,
        staged.loaded_at
    from staged
    where exists (
        select 1 from replaced
        where
            replaced.source = staged.source
            and replaced.region = staged.region
            and replaced.date_day = staged.date_day
    )

),

with_next as (

    select
        *,
        lead(confirmed_cumulative) over by_day as next_confirmed_cumulative,
        lead(deaths_cumulative) over by_day as next_deaths_cumulative,
        lead(batch_id) over by_day as next_batch_id,
        lead(loaded_at) over by_day as next_loaded_at
    from versions
    window by_day as (partition by source, region, date_day order by replacement_id asc nulls last)

),

counts as (

    select
        source,
        region,
        date_day,
        'confirmed' as count_name,
        confirmed_cumulative as value_before,
        next_confirmed_cumulative as value_after,
        batch_id,
        next_batch_id,
        next_loaded_at
    from with_next
    where replacement_id is not null
    union all
    select
        source,
        region,
        date_day,
        'deaths' as count_name,
        deaths_cumulative as value_before,
        next_deaths_cumulative as value_after,
        batch_id,
        next_batch_id,
        next_loaded_at
    from with_next
    where replacement_id is not null

),

final as (

    select
        source,
        region,
        date_day,
        count_name,
        date_day as compared_day,
        value_before,
        value_after,
        batch_id as batch_before,
        next_batch_id as batch_after,
        next_loaded_at as revised_at
    from counts
    where value_before is distinct from value_after

)

select * from final
