with

latest as (

    {{ latest_load(source('raw', 'kdca_covid_cases')) }}

),

final as (

    select
        region,
        date as date_day,
        gubun as region_name,
        def_cnt as confirmed_cumulative,
        death_cnt as deaths_cumulative,
        isol_clear_cnt as released_cumulative,
        true as reported,
        source,
        batch_id,
        loaded_at
    from latest

)

select * from final
