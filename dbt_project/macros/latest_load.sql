{#- One row per (region, date) of a raw table: where several batches or sources published the same
    day, the latest load wins (ties broken by batch id, so the choice is stable). -#}
{% macro latest_load(relation) %}
    select ranked.*
    from (
        select
            *,
            row_number() over (
                partition by region, date
                order by loaded_at desc, batch_id desc
            ) as recency
        from {{ relation }}
    ) as ranked
    where ranked.recency = 1
{% endmacro %}
