-- The case rows that a later publish replaced with different values (raw.replaced_rows), one row per
-- replaced row, with its cumulative counts read out of the kept row under the names the case staging
-- models give them. Replaced weather rows are left out.

{% set count_columns = {
    'raw.coronaboard_cases': {'confirmed': 'confirmed', 'deaths': 'death'},
    'raw.jhu_covid_cases': {'confirmed': 'confirmed', 'deaths': 'deaths'},
    'raw.kdca_covid_cases': {'confirmed': 'def_cnt', 'deaths': 'death_cnt'},
    'raw.who_covid_daily': {'confirmed': 'cumulative_cases', 'deaths': 'cumulative_deaths'},
    'raw.who_covid_weekly': {'confirmed': 'cumulative_cases', 'deaths': 'cumulative_deaths'},
} %}

with

replaced as (

    select * from {{ source('raw', 'replaced_rows') }}
    where raw_table in (
        {%- for raw_table in count_columns %}
            '{{ raw_table }}'{{ "," if not loop.last }}
        {%- endfor %}
    )

),

final as (

    select
        id as replacement_id,
        source,
        region,
        date as date_day,
        {%- for count_name in ['confirmed', 'deaths'] %}
            (case raw_table
                {%- for raw_table, columns in count_columns.items() %}
                    when '{{ raw_table }}' then replaced_row ->> '{{ columns[count_name] }}'
                {%- endfor %}
            end)::bigint as {{ count_name }}_cumulative,
        {%- endfor %}
        batch_id,
        (replaced_row ->> 'loaded_at')::timestamptz as loaded_at,
        replaced_by_batch_id,
        replaced_at
    from replaced

)

select * from final
