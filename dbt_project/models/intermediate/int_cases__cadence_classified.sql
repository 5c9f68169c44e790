-- How each region reports, day by day, from the 28 days up to the day (earlier days only, so a
-- day's class never changes once later days arrive): a day reports when its cumulative count rose
-- over the region's previous row. The thresholds are measured on the bundled JHU and Coronaboard
-- series (int_cases__cadence_classified.yml says how).

{%- set window_days = 28 %}
{%- set daily_min_reporting_days = 16 %}
{%- set few_cases_max_cases = 140 %}
{%- set weekly_min_reporting_days = 3 %}
{%- set weekly_max_reporting_days = 10 %}
{%- set weekly_min_weeks_reported = 3 %}

with

cumulative as (

    select * from {{ ref('int_cases__cumulative_unioned') }}

),

rises as (

    select
        region,
        date_day,
        min(date_day) over (partition by region) as first_day,
        greatest(confirmed_cumulative - lag(confirmed_cumulative) over by_region, 0) as rise
    from cumulative
    window by_region as (partition by region order by date_day)

),

windowed as (

    select
        region,
        date_day,
        first_day,
        count(*) filter (where rise > 0) over last_window as reporting_days_28d,
        coalesce(sum(rise) over last_window, 0) as cases_28d,
        {%- for week in range(window_days // 7) %}
            (count(*) filter (where rise > 0) over (
                by_region range between interval '{{ 7 * week + 6 }} days' preceding
                and interval '{{ 7 * week }} days' preceding
            ) > 0)::int{{ " +" if not loop.last }}
        {%- endfor %}
            as weeks_reported_28d
    from rises
    window
        by_region as (partition by region order by date_day),
        last_window as (by_region range between interval '{{ window_days - 1 }} days' preceding and current row)

),

classified as (

    select
        region,
        date_day,
        reporting_days_28d,
        cases_28d,
        weeks_reported_28d,
        case
            when date_day < first_day + {{ window_days - 1 }} then null
            when reporting_days_28d >= {{ daily_min_reporting_days }} then 'daily'
            when cases_28d < {{ few_cases_max_cases }} then 'few_cases'
            when
                reporting_days_28d between {{ weekly_min_reporting_days }} and {{ weekly_max_reporting_days }}
                and weeks_reported_28d >= {{ weekly_min_weeks_reported }}
                then 'weekly'
            else 'irregular'
        end as reporting_cadence
    from windowed

),

stretch_starts as (

    select
        *,
        coalesce(reporting_cadence, '') <> coalesce(lag(reporting_cadence) over by_region, '') as starts_stretch
    from classified
    window by_region as (partition by region order by date_day)

),

stretches as (

    select
        *,
        count(*) filter (where starts_stretch) over (partition by region order by date_day) as stretch_number
    from stretch_starts

),

final as (

    select
        region,
        date_day,
        reporting_cadence,
        min(date_day) over (partition by region, stretch_number) as reporting_cadence_since
    from stretches

)

select * from final
