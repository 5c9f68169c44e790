{#- Fails on every row whose value is below the row before it in the same partition, by the order given. -#}
{% test non_decreasing(model, column_name, partition_by, order_by) %}

with ordered as (

    select
        {{ partition_by }},
        {{ order_by }},
        {{ column_name }} as current_value,
        lag({{ column_name }}) over (partition by {{ partition_by }} order by {{ order_by }}) as previous_value
    from {{ model }}

)

select * from ordered
where current_value < previous_value

{% endtest %}
