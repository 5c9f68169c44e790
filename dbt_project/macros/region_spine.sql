{#- Per region of the given cadence, every step (a day, or a week: 7 days) from its first counted row to
    the one after its last (the forecast row, is_forecast_row): the rows a features mart computes. -#}
{% macro region_spine(counts, regions, cadence, step_days) %}

    select
        region_days.region,
        calendar.day::date as date_day,
        calendar.day::date = region_days.forecast_day as is_forecast_row
    from (
        select
            counts.region,
            min(counts.date_day) as first_day,
            max(counts.date_day) + {{ step_days }} as forecast_day
        from {{ counts }} as counts
        left join {{ regions }} as regions on counts.region = regions.region
        where coalesce(regions.cadence, 'daily') = '{{ cadence }}'
        group by counts.region
    ) as region_days
    cross join lateral generate_series(
        region_days.first_day, region_days.forecast_day, interval '{{ step_days }} days'
    ) as calendar (day)

{% endmacro %}
