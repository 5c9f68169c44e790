"""The Airflow assets the DAGs produce and consume: raw tables, the training mart, the model.

Their URIs use a scheme of our own, so it starts with `x-` (Airflow's convention): Airflow then does
not look among the providers for a normalizer, which costs every task process about 65 ms."""

from airflow.sdk import Asset, AssetAlias

from cother.ingest import KINDS

RAW_WEATHER = Asset(name="raw.weather", uri="x-cother://warehouse/raw/weather", group="raw")
RAW_CASES = Asset(name="raw.cases", uri="x-cother://warehouse/raw/cases", group="raw")
TRAINING_FEATURES = Asset(
    name="marts.fct_training_features", uri="x-cother://warehouse/marts/fct_training_features", group="marts"
)
MODEL = Asset(
    name="model.cother_cases_forecaster", uri="x-cother://mlflow/models/cother_cases_forecaster", group="model"
)

RAW_BY_KIND = dict(zip(KINDS, (RAW_WEATHER, RAW_CASES), strict=True))
# The ingestion DAG emits raw.weather / raw.cases through this alias, only when it announces.
RAW_ALIAS = AssetAlias(name="raw.announced")
# The transform DAG emits marts.fct_training_features through this alias, only when dbt build passed.
MARTS_ALIAS = AssetAlias(name="marts.built")
