-- New cases are the difference of the cumulative count over one step of the region's set: a day
-- (daily sets), or a week (weekly sets, a row per Sunday: new_cases is the week's count). A difference
-- is only a count of its step when the previous row is one step before, the count did not go down, the
-- row is not the one after a one-step glitch, the source does not mark the row not reported (WHO's blank
-- New_cases), and (daily sets) the region did not report weekly or irregularly over the 28 days up to it
-- (int_cases__cadence_classified); otherwise the count is null and daily_status says why.
-- A glitch is a row whose cumulative falls below the one before and is back at or above it the next
-- row: neither row is a count of its step's cases.

with

cumulative as (

    select * from {{ ref('int_cases__cumulative_unioned') }}

),

cadence as (

    select * from {{ ref('int_cases__cadence_classified') }}

),

regions as (

    select * from {{ source('raw', 'regions') }}

),

with_neighbours as (

    select
        cumulative.region,
        cumulative.date_day,
        cumulative.confirmed_cumulative,
        cumulative.reported,
        coalesce(regions.cadence, 'daily') as set_cadence,
        case when regions.cadence = 'weekly' then 7 else 1 end as step,
        lag(cumulative.date_day) over by_region as previous_day,
        lag(cumulative.confirmed_cumulative) over by_region as previous_confirmed_cumulative,
        lead(cumulative.date_day) over by_region as next_day,
        lead(cumulative.confirmed_cumulative) over by_region as next_confirmed_cumulative,
        lag(cumulative.date_day, 2) over by_region as day_before_previous,
        lag(cumulative.confirmed_cumulative, 2) over by_region as confirmed_cumulative_before_previous
    from cumulative
    left join regions on cumulative.region = regions.region
    window by_region as (partition by cumulative.region order by cumulative.date_day)

),

falls as (

    select
        *,
        previous_day = date_day - step and confirmed_cumulative < previous_confirmed_cumulative as fell,
        previous_day = date_day - step
        and next_day = date_day + step
        and confirmed_cumulative < previous_confirmed_cumulative
        and next_confirmed_cumulative >= previous_confirmed_cumulative as is_glitch,
        day_before_previous = date_day - 2 * step
        and previous_confirmed_cumulative < confirmed_cumulative_before_previous
        and confirmed_cumulative >= confirmed_cumulative_before_previous as follows_glitch
    from with_neighbours

),

classified as (

    select
        falls.region,
        falls.date_day,
        falls.confirmed_cumulative,
        falls.confirmed_cumulative - falls.previous_confirmed_cumulative as difference,
        case
            when falls.previous_day is null then 'first_day'
            when falls.previous_day <> falls.date_day - falls.step then 'after_gap'
            when not falls.reported then 'not_reported'
            when falls.is_glitch then 'glitch'
            when falls.follows_glitch then 'after_glitch'
            when falls.fell then 'revised_down'
            when
                falls.set_cadence = 'daily' and cadence.reporting_cadence in ('weekly', 'irregular')
                then 'not_reported_daily'
            else 'ok'
        end as daily_status
    from falls
    left join cadence
        on falls.region = cadence.region and falls.date_day = cadence.date_day

),

final as (

    select
        region,
        date_day,
        confirmed_cumulative,
        daily_status,
        case when daily_status = 'ok' then difference end as new_cases
    from classified

)

select * from final
