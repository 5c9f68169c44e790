-- The tables CO-THER loads into before dbt; applied on every load, so each statement is idempotent.
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
