-- Daily new cases are the day-over-day difference of the cumulative count. A difference is only a
-- daily count when the previous row is the day before, the count did not go down, the day is not
-- the day after a one-day glitch, and the region did not report weekly or irregularly over the 28
-- days up to it (int_cases__cadence_classified); otherwise the day's count is null and daily_status
-- says why.
-- A glitch is a day whose cumulative falls below the day before's and is back at or above it the
-- next day: neither day is a count of that day's cases.

with

cumulative as (

    select * from {{ ref('int_cases__cumulative_unioned') }}

),

cadence as (

    select * from {{ ref('int_cases__cadence_classified') }}

),

with_neighbours as (

    select
        region,
        date_day,
        confirmed_cumulative,
        lag(date_day) over by_region as previous_day,
        lag(confirmed_cumulative) over by_region as previous_confirmed_cumulative,
        lead(date_day) over by_region as next_day,
        lead(confirmed_cumulative) over by_region as next_confirmed_cumulative,
        lag(date_day, 2) over by_region as day_before_previous,
        lag(confirmed_cumulative, 2) over by_region as confirmed_cumulative_before_previous
    from cumulative
    window by_region as (partition by region order by date_day)

),

falls as (

    select
        *,
        previous_day = date_day - 1 and confirmed_cumulative < previous_confirmed_cumulative as fell,
        previous_day = date_day - 1
        and next_day = date_day + 1
        and confirmed_cumulative < previous_confirmed_cumulative
        and next_confirmed_cumulative >= previous_confirmed_cumulative as is_glitch,
        day_before_previous = date_day - 2
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
            when falls.previous_day <> falls.date_day - 1 then 'after_gap'
            when falls.is_glitch then 'glitch'
            when falls.follows_glitch then 'after_glitch'
            when falls.fell then 'revised_down'
            when cadence.reporting_cadence in ('weekly', 'irregular') then 'not_reported_daily'
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
