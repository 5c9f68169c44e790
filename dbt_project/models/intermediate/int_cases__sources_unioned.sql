-- Every case source's staged rows, one series per source, region and day: what each source published
-- for each day (a weekly source: for each Sunday). int_cases__cumulative_unioned keeps one source per
-- region and day; the revision models read every source's own series.

{{ config(materialized='view') }}

with

unioned as (

    select * from {{ ref('stg_coronaboard__cases_daily') }}
    union all
    select * from {{ ref('stg_kdca__cases_daily') }}
    union all
    select * from {{ ref('stg_who__cases_daily') }}
    union all
    select * from {{ ref('stg_who__cases_weekly') }}
    union all
    select * from {{ ref('stg_jhu__cases_daily') }}

),

final as (

    select
        region,
        date_day,
        region_name,
        confirmed_cumulative,
        deaths_cumulative,
        released_cumulative,
        reported,
        source,
        batch_id,
        loaded_at
    from unioned

)

select * from final
