-- One row per day from the first to the day after the last day any case or weather data covers.

with

calendar as (

    select * from {{ ref('int_calendar__days_classified') }}

),

final as (

    select
        date_day,
        day_of_week,
        day_of_week in (6, 7) as is_weekend,
        is_public_holiday,
        holiday_name,
        day_type,
        extract(week from date_day)::int as iso_week,
        extract(month from date_day)::int as month_of_year,
        extract(quarter from date_day)::int as quarter_of_year,
        extract(year from date_day)::int as calendar_year
    from calendar

)

select * from final
