-- The Airflow metadata and MLflow registry databases beside the warehouse (POSTGRES_DB=cother).
create database airflow;
create database mlflow;
