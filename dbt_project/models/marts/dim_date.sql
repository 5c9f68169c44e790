-- One row per day from the first to the day after the last day any case or weather data covers.

with

days as (

    select date_day from {{ ref('int_cases__daily_from_cumulative') }}
    union
    select date_day from {{ ref('int_weather__daily_canonical') }}

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
        date_day,
        extract(isodow from date_day)::int as day_of_week,
        extract(isodow from date_day) in (6, 7) as is_weekend,
        extract(week from date_day)::int as iso_week,
        extract(month from date_day)::int as month_of_year,
        extract(quarter from date_day)::int as quarter_of_year,
        extract(year from date_day)::int as calendar_year
    from calendar

)

select * from final
