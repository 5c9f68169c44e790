-- The regions CO-THER forecasts, as configured in config/regions/*.yml (synced to raw.regions before
-- every build), with the span of days each has case data for and how it reports its cases now (the
-- class of its last day, int_cases__cadence_classified, and the first day of that class's stretch).

with

regions as (

    select * from {{ source('raw', 'regions') }}

),

case_days as (

    select
        region,
        min(date_day) as first_case_day,
        max(date_day) as last_case_day
    from {{ ref('int_cases__daily_from_cumulative') }}
    group by region

),

current_cadence as (

    select distinct on (region)
        region,
        reporting_cadence,
        reporting_cadence_since
    from {{ ref('int_cases__cadence_classified') }}
    order by region asc, date_day desc

),

final as (

    select
        regions.region,
        regions.region_set,
        regions.region_name,
        regions.latitude,
        regions.longitude,
        regions.kma_station,
        regions.case_names,
        case_days.first_case_day,
        case_days.last_case_day,
        current_cadence.reporting_cadence,
        current_cadence.reporting_cadence_since
    from regions
    left join case_days on regions.region = case_days.region
    left join current_cadence on regions.region = current_cadence.region

)

select * from final
