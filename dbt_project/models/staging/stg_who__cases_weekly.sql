{{ stg_who_cases(source('raw', 'who_covid_weekly')) }}
