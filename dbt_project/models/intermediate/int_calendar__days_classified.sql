-- One row per day from the first to the day after the last day any case or weather data covers,
-- classified as a weekday, a Saturday, or a Sunday or public holiday (when fewer tests are done).

with

days as (

    select date_day from {{ ref('int_cases__daily_from_cumulative') }}
    union
    select date_day from {{ ref('int_weather__daily_canonical') }}

),

holidays as (

    select * from {{ ref('kr_public_holidays') }}

),

bounds as (

    select
        min(date_day) as first_day,
        max(date_day) + 1 as last_day
    from days

),

calendar as (

    select calendar.day::date as date_day
    from bounds
    cross join lateral generate_series(bounds.first_day, bounds.last_day, interval '1 day') as calendar (day)

),

final as (

    select
        calendar.date_day,
        extract(isodow from calendar.date_day)::int as day_of_week,
        holidays.holiday_date is not null as is_public_holiday,
        holidays.holiday_name,
        case
            when extract(isodow from calendar.date_day) = 7 or holidays.holiday_date is not null then 2
            when extract(isodow from calendar.date_day) = 6 then 1
            else 0
        end as day_type
    from calendar
    left join holidays on calendar.date_day = holidays.holiday_date

)

select * from final
