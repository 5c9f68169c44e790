{#- A WHO file's raw table staged: its daily and its weekly file have the same columns. -#}
{% macro stg_who_cases(relation) %}

with

latest as (

    {{ latest_load(relation) }}

),

final as (

    select
        region,
        date as date_day,
        country_code as region_name,
        cumulative_cases as confirmed_cumulative,
        cumulative_deaths as deaths_cumulative,
        null::bigint as released_cumulative,
        -- WHO leaves New_cases blank for a row the country did not report (it writes 0 for a row with none)
        new_cases is not null as reported,
        source,
        batch_id,
        loaded_at
    from latest

)

select * from final

{% endmacro %}
