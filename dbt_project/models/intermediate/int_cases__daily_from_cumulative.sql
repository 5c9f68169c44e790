-- Daily new cases are the day-over-day difference of the cumulative count. A difference is only a
-- daily count when the previous row is the day before and the count did not go down: a gap or a
-- downward revision leaves the day's count null and says why in daily_status.

with

cumulative as (

    select * from {{ ref('int_cases__cumulative_unioned') }}

),

with_previous as (

    select
        region,
        date_day,
        confirmed_cumulative,
        lag(date_day) over by_region as previous_day,
        lag(confirmed_cumulative) over by_region as previous_confirmed_cumulative
    from cumulative
    window by_region as (partition by region order by date_day)

),

final as (

    select
        region,
        date_day,
        confirmed_cumulative,
        case
            when previous_day is null then 'first_day'
            when previous_day <> date_day - 1 then 'after_gap'
            when confirmed_cumulative < previous_confirmed_cumulative then 'revised_down'
            else 'ok'
        end as daily_status,
        case
            when previous_day = date_day - 1 and confirmed_cumulative >= previous_confirmed_cumulative
                then confirmed_cumulative - previous_confirmed_cumulative
        end as new_cases
    from with_previous

)

select * from final
