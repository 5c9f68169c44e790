"""The `cother` command line."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path


def _db(args: argparse.Namespace) -> None:
    from cother.local import postgres
    from cother_core.database import airflow_url, mlflow_url, parsed, warehouse_url

    if args.action == "start":
        print(parsed(postgres.start()).render_as_string())  # the password hidden: `url` shows it
    elif args.action == "stop":
        postgres.stop()
    elif args.action == "status":
        print(postgres.status())
    else:
        print({"warehouse": warehouse_url, "airflow": airflow_url, "mlflow": mlflow_url}[args.database]())


def _airflow(args: argparse.Namespace) -> None:
    from cother.local import postgres
    from cother.orchestration.airflow_runner import airflow, migrate
    from cother.orchestration.stale_runs import end_stale_runs

    postgres.start()
    migrate()
    if args.command[:2] in (["dags", "test"], ["dags", "trigger"]):  # a stale run would hold the new one queued
        end_stale_runs()
    sys.exit(airflow(*args.command, check=False))


def _stack(args: argparse.Namespace) -> None:
    import signal

    from cother.local import postgres
    from cother.orchestration.airflow_env import PASSWORD_FILE
    from cother.orchestration.airflow_runner import local_stack, migrate
    from cother.orchestration.celery_workers import BrokerUnreachable
    from cother_core.settings import get_settings

    postgres.start()
    migrate()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops the stack as Ctrl-C does
    try:
        with local_stack(port=args.port, celery=args.celery):
            passwords = get_settings().airflow_home / PASSWORD_FILE
            url = f"http://{get_settings().airflow_host}:{args.port}"
            print(f"Airflow UI: {url}  (user admin, password in {passwords}); Ctrl-C stops it")
            try:
                signal.pause()
            except KeyboardInterrupt:
                print("stopping the Airflow stack")
    except BrokerUnreachable as error:
        sys.exit(f"cother stack: {error}")


def _mlflow_ui(args: argparse.Namespace) -> None:
    import subprocess

    from cother.local import mlflow_server, postgres

    postgres.start()
    login = f"user {mlflow_server.ADMIN}, password in {mlflow_server.password_file()}"
    print(f"MLflow UI: http://127.0.0.1:{args.port}  ({login})")
    done = subprocess.run(mlflow_server.command(args.port), env=mlflow_server.environment(), check=False)
    sys.exit(done.returncode)


def _docs(args: argparse.Namespace) -> None:
    from cother.local import postgres
    from cother.transform import docs_site

    postgres.start()
    docs_site.serve(args.port)


def _quarantine(args: argparse.Namespace) -> None:
    from cother.ingest import quarantine

    if args.action == "list":
        for held in quarantine.list_batches(args.all):
            first = held["failures"][0] if held["failures"] else {}
            status = f"replayed as {held['replayed_as']}" if held["replayed_as"] else "held"
            if held["resolved_by"] and not held["replayed_as"]:
                status = f"resolved by {held['resolved_by']}"
            print(
                f"{held['batch_id']}  {held['source']:<15} {held['region']:<10} {held['first_day']}..{held['last_day']}"
                f"  {status}: {first.get('expectation')} {first.get('column') or ''}"
            )
    elif args.action == "show":
        print(json.dumps(quarantine.show(args.batch_id, args.region), indent=2, ensure_ascii=False))
    else:
        published = quarantine.replay(args.batch_id, refetch=args.refetch, region_id=args.region)
        rows = sum(published["rows"].values())
        print(f"published {rows} rows of {published['batch_id']} into {published['table']};")
        print("the next cother_ingest run announces them to cother_transform")


def _demo(args: argparse.Namespace) -> None:
    from cother.local import demo

    demo.run(args.regions.split(",") if args.regions else None)


def _predict(args: argparse.Namespace) -> None:
    from cother_ml.predict import predict

    print(json.dumps(predict(args.region, args.date)))  # the champion of the region's set


def _export(args: argparse.Namespace) -> None:
    from cother_ml import hub_export

    try:
        written = hub_export.export(args.region_set, args.date, args.out)
    except ValueError as missing:
        sys.exit(f"cother export: {missing}")
    print(f"wrote {written['rows']} rows of v{written['model_version']}'s quantile forecasts to {written['path']}")


def _model(args: argparse.Namespace) -> None:
    from cother_ml import aliases, registry

    name = registry.model_name_of(args.region_set)
    if args.action == "promote":
        previous = aliases.promote(name, args.version)
        print(f"champion: v{args.version} (was {'v' + previous if previous else 'none'})")
    elif args.action == "rollback":
        print(f"champion: v{aliases.rollback(name)} (rolled back)")
    moves = aliases.history(name, args.limit if args.action == "history" else 1)
    for move in moves:
        print(
            f"{move['moved_at']:%Y-%m-%d %H:%M:%S}  {move['alias']:<10} v{move['version']:<4} (was {'v' + move['previous'] if move['previous'] else 'none'})"
            f"  by {move['moved_by']}: {move['reason']}"
        )


def _regions(args: argparse.Namespace) -> None:
    from cother_core.regions import registry
    from cother_core.warehouse import retire_set

    if args.action == "check":
        found = registry()
        for name, region_set in found.sets.items():
            print(f"{name}: {len(region_set.regions)} regions, {region_set.cadence} ({region_set.path})")
        for why in found.refused.values():
            print(f"refused: {why}")
        sys.exit(1 if found.refused else 0)

    def confirm(regions: list[str], rows: dict[str, int]) -> bool:
        counts = ", ".join(f"{table} {count}" for table, count in rows.items() if count)
        print(f"retire {args.set}: {len(regions)} regions in raw.regions; rows to delete: {counts or 'none'}")
        return args.yes or input(f"type {args.set} to delete them: ").strip() == args.set

    try:
        deleted = retire_set(args.set, confirm)
    except ValueError as error:
        sys.exit(str(error))
    if deleted is None:
        sys.exit(f"retire {args.set}: not confirmed; nothing deleted")
    print(f"retired {args.set}: {sum(deleted.values())} rows deleted; its registered model versions are kept")


def _config(args: argparse.Namespace) -> None:
    from cother_core import config_docs

    print(config_docs.env_example() if args.form == "env" else config_docs.markdown(), end="")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="cother", description="CO-THER: weather and COVID-19 cases to a retrained forecaster"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="the embedded PostgreSQL (or the server COTHER_DATABASE_URL names)")
    db.add_argument("action", choices=["start", "stop", "status", "url"])
    db.add_argument("--database", choices=["warehouse", "airflow", "mlflow"], default="warehouse", help="with url")
    db.set_defaults(handler=_db)

    af = commands.add_parser("airflow", help="run an airflow command with the project's configuration")
    af.add_argument("command", nargs=argparse.REMAINDER)
    af.set_defaults(handler=_airflow)

    st = commands.add_parser("stack", help="Airflow's API server, scheduler, DAG processor and triggerer, until Ctrl-C")
    st.add_argument("--port", type=int, default=8080)
    st.add_argument("--celery", action="store_true", help="on the CeleryExecutor: Redis and Celery workers besides")
    st.set_defaults(handler=_stack)

    ui = commands.add_parser("mlflow-ui", help="serve the MLflow UI on the registry database, behind a login")
    ui.add_argument("--port", type=int, default=5000)
    ui.set_defaults(handler=_mlflow_ui)

    docs = commands.add_parser("docs", help="generate the dbt docs and serve them beside the GX data docs")
    docs.add_argument("--port", type=int, default=8081)
    docs.set_defaults(handler=_docs)

    qu = commands.add_parser("quarantine", help="batches that failed their quality gate: list, show, replay")
    qu.add_argument("action", choices=["list", "show", "replay"])
    qu.add_argument("batch_id", nargs="?", help="with show and replay")
    qu.add_argument("--all", action="store_true", help="with list: replayed batches too")
    qu.add_argument("--region", help="with show and replay: the region, when several of the batch are held")
    qu.add_argument("--refetch", action="store_true", help="with replay: fetch the range from the source again first")
    qu.set_defaults(handler=_quarantine)

    de = commands.add_parser(
        "demo", help="run the pipeline over the bundled data: a year of the 17 provinces, and the weekly world set"
    )
    de.add_argument("--regions", help="some provinces only, comma-separated (e.g. seoul)")
    de.set_defaults(handler=_demo)

    pr = commands.add_parser("predict", help="forecast new cases for a region and day with the champion model")
    pr.add_argument("--region", required=True)
    pr.add_argument("--date", required=True, type=date.fromisoformat)
    pr.set_defaults(handler=_predict)

    ex = commands.add_parser("export", help="write a set's champion's forecasts from one origin for a forecast hub")
    ex.add_argument("format", choices=["hub"], help="hub: a hubverse model-output CSV of the 23 quantiles")
    ex.add_argument("--date", required=True, type=date.fromisoformat, help="the forecast origin (reference_date)")
    ex.add_argument("--set", dest="region_set", default="korea", help="the region set whose model (default: korea)")
    ex.add_argument("--out", type=Path, help="the file to write (default: <date>-cother-<model>.csv here)")
    ex.set_defaults(handler=_export)

    mo = commands.add_parser("model", help="the registered model's aliases: promote, roll back, history")
    mo.add_argument("--set", dest="region_set", default="korea", help="the region set whose model (default: korea)")
    actions = mo.add_subparsers(dest="action", required=True)
    actions.add_parser("promote", help="make VERSION the champion").add_argument("version")
    actions.add_parser("rollback", help="give champion back to the version that held it before the last move")
    actions.add_parser("history", help="the latest alias moves").add_argument("--limit", type=int, default=20)
    mo.set_defaults(handler=_model)

    rg = commands.add_parser("regions", help="the region sets: check their files, retire a removed set")
    region_actions = rg.add_subparsers(dest="action", required=True)
    region_actions.add_parser("check", help="read every file of the regions directory; exit 1 if one is refused")
    retire = region_actions.add_parser(
        "retire", help="delete a removed set's rows from the raw tables, batch log, quarantine, marts, ml.forecasts"
    )
    retire.add_argument("set", help="the set's name (its file's, without .yml)")
    retire.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    rg.set_defaults(handler=_regions)

    co = commands.add_parser(
        "config", help="every setting with its default: as .env.example or as docs/configuration.md"
    )
    co.add_argument("form", choices=["env", "markdown"])
    co.set_defaults(handler=_config)

    args = parser.parse_args(argv)
    args.handler(args)


if __name__ == "__main__":
    main()
