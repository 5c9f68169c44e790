-- A source's corrections of its own counts, as published: a cumulative count that fell below the
-- source's previous reported day ('fall'), and a day's count that a later fetch replaced with a
-- different value ('restated'). One row per kind, source, region, day, count and replaced version.

with

falls as (

    select * from {{ ref('int_cases__falls_detected') }}

),

restatements as (

    select * from {{ ref('int_cases__restatements_detected') }}

),

revisions as (

    select
        'fall' as kind,
        *
    from falls
    union all
    select
        'restated' as kind,
        *
    from restatements

),

final as (

    select
        kind,
        source,
        region,
        date_day,
        count_name,
        compared_day,
        value_before,
        value_after,
        value_before - value_after as fall,
        (value_before - value_after)::double precision / nullif(value_before, 0) as fall_share,
        batch_before,
        batch_after,
        revised_at
    from revisions

)

select * from final
