-- The tables CO-THER loads into before dbt; applied once per process (cother_core.warehouse), by every
-- process in turn, so each statement is idempotent.
-- raw.*: one table per source format, one row per (source, region, date), with its lineage.
-- quarantine.*: batches that failed their quality gate, kept whole with the reasons.

create schema if not exists raw;
create schema if not exists quarantine;

create table if not exists raw.kma_asos_daily (
    source text not null,
    region text not null,
    date date not null,
    stn_id text not null,
    avgta double precision,
    minta double precision,
    maxta double precision,
    sumrn double precision,
    avgws double precision,
    maxws double precision,
    avgrhm double precision,
    avgtd double precision,
    avgps double precision,
    sumsshr double precision,
    avgtca double precision,
    record jsonb not null,
    batch_id text not null,
    landed_file text not null,
    loaded_at timestamptz not null default now(),
    primary key (source, region, date)
);

create table if not exists raw.coronaboard_cases (
    source text not null,
    region text not null,
    date date not null,
    region_name text not null,
    confirmed bigint,
    death bigint,
    released bigint,
    batch_id text not null,
    landed_file text not null,
    loaded_at timestamptz not null default now(),
    primary key (source, region, date)
);

create table if not exists quarantine.batches (
    batch_id text not null,
    source text not null,
    region text not null,
    start_date date not null,
    end_date date not null,
    landed_file text not null,
    suite text not null,
    failures jsonb not null,
    records jsonb not null,
    quarantined_at timestamptz not null default now(),
    primary key (source, region, batch_id)
);

create table if not exists raw.open_meteo_daily (
    source text not null,
    region text not null,
    date date not null,
    temperature_2m_mean double precision,
    temperature_2m_min double precision,
    temperature_2m_max double precision,
    precipitation_sum double precision,
    rain_sum double precision,
    wind_speed_10m_mean double precision,
    wind_speed_10m_max double precision,
    relative_humidity_2m_mean double precision,
    cloud_cover_mean double precision,
    sunshine_duration double precision,
    pressure_msl_mean double precision,
    dew_point_2m_mean double precision,
    record jsonb not null,
    batch_id text not null,
    landed_file text not null,
    loaded_at timestamptz not null default now(),
    primary key (source, region, date)
);

create table if not exists raw.kdca_covid_cases (
    source text not null,
    region text not null,
    date date not null,
    gubun text not null,
    def_cnt bigint,
    inc_dec bigint,
    death_cnt bigint,
    isol_clear_cnt bigint,
    local_occ_cnt bigint,
    over_flow_cnt bigint,
    record jsonb not null,
    batch_id text not null,
    landed_file text not null,
    loaded_at timestamptz not null default now(),
    primary key (source, region, date)
);

create table if not exists raw.who_covid_daily (
    source text not null,
    region text not null,
    date date not null,
    country_code text not null,
    new_cases bigint,
    cumulative_cases bigint,
    new_deaths bigint,
    cumulative_deaths bigint,
    record jsonb not null,
    batch_id text not null,
    landed_file text not null,
    loaded_at timestamptz not null default now(),
    primary key (source, region, date)
);

-- WHO's weekly file: the same columns, a row per country or area and Sunday (date: the Sunday the week ends on).
create table if not exists raw.who_covid_weekly (like raw.who_covid_daily including all);

create table if not exists raw.jhu_covid_cases (
    source text not null,
    region text not null,
    date date not null,
    country_region text not null,
    confirmed bigint,
    deaths bigint,
    record jsonb not null,
    batch_id text not null,
    landed_file text not null,
    loaded_at timestamptz not null default now(),
    primary key (source, region, date)
);

-- Every published batch, a row per region; announced_at is set when the ingestion DAG has told the downstream DAGs
-- (one announcement can cover many batches, e.g. a whole backfill).
create table if not exists raw.batch_log (
    source text not null,
    region text not null,
    batch_id text not null,
    raw_table text not null,
    kind text not null,
    start_date date not null,
    end_date date not null,
    landed_file text not null,
    row_count integer not null,
    validation_id text not null,
    published_at timestamptz not null default now(),
    announced_at timestamptz,
    primary key (source, region, batch_id)
);

-- The calls made to each live source, for its rate limits (cother.ingest.sources.http.RateLimiter): every
-- worker counts here, on the server's clock; calls older than the longest window are deleted.
create table if not exists raw.source_calls (
    source text not null,
    called_at timestamptz not null default clock_timestamp(),
    weight double precision not null
);

create index if not exists source_calls_by_time on raw.source_calls (source, called_at);

alter table quarantine.batches add column if not exists replayed_at timestamptz;
alter table quarantine.batches add column if not exists replayed_as text;
alter table quarantine.batches add column if not exists validation_id text;
alter table quarantine.batches add column if not exists expectations_evaluated integer;

-- config/regions/*.yml as a table, refreshed before every dbt build (dbt's dim_region reads it).
create table if not exists raw.regions (
    region text primary key,
    region_name text not null,
    latitude double precision not null,
    longitude double precision not null,
    kma_station text,
    case_names jsonb not null
);

alter table raw.regions add column if not exists region_set text not null default 'korea';
-- a weekly set's places without a weather point (config/regions/world_weekly.yml) have no coordinates
alter table raw.regions alter column latitude drop not null;
alter table raw.regions alter column longitude drop not null;
alter table raw.regions add column if not exists cadence text not null default 'daily';

-- ml.forecasts: what each retrain forecast with the version it registered (dbt: marts.fct_forecasts).
create schema if not exists ml;

create table if not exists ml.forecasts (
    model_name text not null,
    model_version text not null,
    region text not null,
    origin_date date not null,
    target_date date not null,
    horizon_days integer not null check (horizon_days >= 1),
    forecast_new_cases double precision not null check (forecast_new_cases >= 0),
    model_alias text,
    created_at timestamptz not null default now(),
    primary key (model_name, model_version, region, target_date, horizon_days)
);
-- which forecaster made it: the model, or the naive one published where the model loses (added later)
alter table ml.forecasts add column if not exists forecaster text not null default 'model';
-- whether the version trained on the region: if not, a naive forecaster made it (null: written before)
alter table ml.forecasts add column if not exists region_in_training boolean;

-- ml.forecast_quantiles: each forecast of ml.forecasts at the forecast hubs' 23 quantile levels, long form
-- (cother_ml.publication.quantiles), written in the same transaction as its forecasts.
create table if not exists ml.forecast_quantiles (
    model_name text not null,
    model_version text not null,
    region text not null,
    origin_date date not null,
    target_date date not null,
    horizon_days integer not null check (horizon_days >= 1),
    quantile_level numeric(4, 3) not null check (quantile_level > 0 and quantile_level < 1),
    quantile_value double precision not null check (quantile_value >= 0),
    primary key (model_name, model_version, region, target_date, horizon_days, quantile_level)
);

-- ml.model_promotions: every move of a registered model's alias, by the retrain or by hand.
create table if not exists ml.model_promotions (
    id bigint generated always as identity primary key,
    model_name text not null,
    alias_name text not null,
    model_version text not null,
    previous_model_version text,
    moved_by text not null,
    reason text not null,
    metrics jsonb not null default '{}',
    moved_at timestamptz not null default now()
);

-- ml.field_accuracy_alerts: each alert that a champion did worse than persistence over a stretch of
-- scored days of a region and horizon (cother/transform/field_accuracy.py); the promotion gate reads it.
create table if not exists ml.field_accuracy_alerts (
    model_name text not null,
    model_version text not null,
    region text not null,
    horizon_days integer not null,
    stretch_start date not null,
    stretch_end date not null,
    scored_days integer not null,
    mae double precision not null,
    persistence_mae double precision not null,
    alerted_at timestamptz not null default now(),
    primary key (model_name, model_version, region, horizon_days, stretch_end)
);

-- raw.replaced_rows: every published row that a later publish replaced with a row differing in a value
-- column (a source restating a day), kept whole as jsonb, written in the replacing publish's
-- transaction (cother.ingest.load.replace_partitions); a row replaced by an identical one is not kept.
-- id orders the versions of a partition: publishes of a table and source hold the same advisory lock.
create table if not exists raw.replaced_rows (
    id bigint generated always as identity primary key,
    source text not null,
    raw_table text not null,
    region text not null,
    date date not null,
    replaced_row jsonb not null,
    batch_id text not null,
    landed_file text not null,
    replaced_by_batch_id text not null,
    replaced_at timestamptz not null default now()
);

-- ml.coverage_alerts: each alert that a champion's 95 % intervals held fewer actuals than they should over
-- a stretch of scored days of a region and horizon (cother/transform/field_accuracy.py).
create table if not exists ml.coverage_alerts (
    model_name text not null,
    model_version text not null,
    region text not null,
    horizon_days integer not null,
    stretch_start date not null,
    stretch_end date not null,
    scored_days integer not null,
    coverage_95 double precision not null,
    alerted_at timestamptz not null default now(),
    primary key (model_name, model_version, region, horizon_days, stretch_end)
);

-- ml.surge_warnings: per forecast of ml.forecasts, the count its target day would reach at a surge's pace
-- (up 50 % a week from the level at its origin), the probability of a count above it read off the
-- forecast's quantiles, the warning level its version chose for the horizon on its backtest and whether
-- the probability reaches it (cother_ml.surge), written in the same transaction as its forecasts. Nulls:
-- no quantiles or no level at the origin to read a probability from, no level chosen (too few surges).
create table if not exists ml.surge_warnings (
    model_name text not null,
    model_version text not null,
    region text not null,
    origin_date date not null,
    target_date date not null,
    horizon_days integer not null check (horizon_days >= 1),
    surge_threshold double precision check (surge_threshold >= 0),
    surge_probability double precision check (surge_probability between 0 and 1),
    warning_level double precision check (warning_level > 0 and warning_level < 1),
    is_warned boolean not null,
    primary key (model_name, model_version, region, target_date, horizon_days)
);

-- ml.surge_alerts: each surge warning sent through the alert channel (cother/surge_alerts.py): a region
-- the champion warned of from an origin with no alert for the region in the surge window before it.
create table if not exists ml.surge_alerts (
    model_name text not null,
    model_version text not null,
    region text not null,
    origin_date date not null,
    alerted_at timestamptz not null default now(),
    primary key (model_name, region, origin_date)
);

create index if not exists replaced_rows_by_partition on raw.replaced_rows (raw_table, source, region, date);
