import multiprocessing
import os
import pwd
import stat
import subprocess
import time

import psycopg2
import pytest

from cother.local import postgres
from cother_core.database import PASSWORD_FILE, airflow_url, libpq_url, mlflow_url, parsed, warehouse_url
from cother_core.settings import WAREHOUSE_DB, get_settings

pytestmark = pytest.mark.integration


def test_start_is_idempotent_once_running(postgres_server):
    postmaster = (postgres_server.data_dir / "postmaster.pid").read_text().splitlines()[0]
    assert postgres.start() == warehouse_url()
    assert (postgres_server.data_dir / "postmaster.pid").read_text().splitlines()[0] == postmaster  # not restarted
    assert "running" in postgres.status()


def test_the_three_databases_exist_and_accept_connections(postgres_server):
    for url in (warehouse_url(), airflow_url(), mlflow_url()):
        with psycopg2.connect(libpq_url(url)) as conn, conn.cursor() as cur:
            cur.execute("select current_database()")
            assert cur.fetchone()[0] == url.rsplit("/", 1)[1]


def test_the_server_does_not_run_as_root(postgres_server):
    with psycopg2.connect(libpq_url(warehouse_url())) as conn, conn.cursor() as cur:
        cur.execute("select pg_backend_pid()")
        pid = cur.fetchone()[0]
    uid = int(next(line.split()[1] for line in open(f"/proc/{pid}/status") if line.startswith("Uid:")))
    assert uid != 0


CREATORS = 4  # processes creating the user at once
WAIT_S = 300  # for them to start and create it, on a busy machine


def test_processes_that_create_the_server_user_at_once_all_get_the_one_it_has():
    """As the two workers of `make test` do on a fresh machine (as root): each process goes on with the
    uid the user keeps, not one that a concurrent `useradd` overwrote.

    They are new interpreters, not forks of this worker: a fork copies the locks that the worker's
    other threads hold at that instant, and the forking version of this test is where a CI run stopped, until its limit."""
    name = "cother-race"
    subprocess.run(["userdel", name], capture_output=True, check=False)
    spawn = multiprocessing.get_context("spawn")
    together, created = spawn.Barrier(CREATORS), spawn.Queue()
    processes = [spawn.Process(target=_create_with_the_others, args=(name, together, created)) for _ in range(CREATORS)]
    try:
        for process in processes:
            process.start()
        uids = [created.get(timeout=WAIT_S) for _ in processes]
        assert set(uids) == {pwd.getpwnam(name).pw_uid}, uids
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
        subprocess.run(["userdel", name], capture_output=True, check=False)


def _create_with_the_others(name: str, together, created) -> None:
    """Creates the user once all the creating processes are up, and reports its uid or what went wrong."""
    try:
        together.wait(WAIT_S)
        created.put(postgres.system_user(name).pw_uid)
    except Exception as error:
        created.put(repr(error))


def test_an_existing_server_is_used_when_cother_database_url_is_set(postgres_server, monkeypatch):
    """With COTHER_DATABASE_URL nothing is started; the databases are created on that server."""
    server = parsed(warehouse_url())  # the test server stands in for one of the user's own, password and all
    monkeypatch.setenv("COTHER_DATABASE_URL", server.set(database="external_warehouse").render_as_string(False))
    monkeypatch.setenv("COTHER_MLFLOW_DATABASE_URL", server.set(database="external_registry").render_as_string(False))
    monkeypatch.setattr(postgres.EmbeddedPostgres, "start", lambda self: pytest.fail("the embedded server was started"))
    try:
        assert postgres.start().endswith("/external_warehouse")
        assert postgres.status().startswith("external server")
        assert airflow_url().endswith("/airflow")
        with psycopg2.connect(libpq_url(mlflow_url())) as conn, conn.cursor() as cur:
            cur.execute("select current_database()")
            assert cur.fetchone()[0] == "external_registry"
    finally:
        monkeypatch.undo()


OTHER_USER = "cother-other"
REFUSED = ("no password supplied", "password authentication failed")


def _as_other_user(*args: str, password: str | None = None) -> subprocess.CompletedProcess:
    """A command run as another account on the machine (created when missing), as any local user might."""
    user = postgres.system_user(OTHER_USER)
    env = {"PATH": "/usr/bin:/bin", **({"PGPASSWORD": password} if password else {})}
    return subprocess.run(
        args, user=user.pw_uid, group=user.pw_gid, env=env, capture_output=True, text=True, cwd="/", check=False
    )


def _psql_as_other_user(host: str, password: str | None = None) -> subprocess.CompletedProcess:
    port = str(get_settings().pg_port)
    command = ("-w", "-h", host, "-p", port, "-U", "postgres", "-d", WAREHOUSE_DB, "-Atc", "select current_user")
    return _as_other_user(postgres._bin("psql"), *command, password=password)


def test_another_local_user_is_refused_without_the_password(postgres_server):
    """Another account on the machine reaches the server (loopback or its Unix socket) but not in as
    superuser: the password is required, and only the project's user can read it."""
    over_tcp = _psql_as_other_user("127.0.0.1")
    assert over_tcp.returncode != 0 and any(reason in over_tcp.stderr for reason in REFUSED), over_tcp
    guessed = _psql_as_other_user("127.0.0.1", password="postgres")
    assert guessed.returncode != 0 and "password authentication failed" in guessed.stderr, guessed
    over_socket = _psql_as_other_user(str(get_settings().postgres_dir))
    assert over_socket.returncode != 0, over_socket
    assert any(reason in over_socket.stderr for reason in (*REFUSED, "Permission denied")), over_socket

    password_file = get_settings().postgres_dir / PASSWORD_FILE
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert password_file.stat().st_uid == os.geteuid()
    unread = _as_other_user("cat", str(password_file))
    assert unread.returncode != 0 and "Permission denied" in unread.stderr, unread

    # the same account with the project's password gets in: what refused it was the password alone
    allowed = _psql_as_other_user("127.0.0.1", password=parsed(warehouse_url()).password)
    assert allowed.returncode == 0 and allowed.stdout.strip() == "postgres", allowed


def test_a_data_folder_that_trusted_every_local_user_is_moved_to_the_password(postgres_server, monkeypatch):
    """A data folder initialised before the password (pg_hba.conf: trust) asks for it from its next
    start on, and the project's URL gets in."""
    from cother.orchestration.airflow_runner import free_port

    monkeypatch.setenv("COTHER_RUNTIME_DIR", str(get_settings().runtime_dir / "trusting"))
    monkeypatch.setenv("COTHER_PG_PORT", str(free_port()))
    server = postgres.EmbeddedPostgres()
    server._prepare()
    initdb = [postgres._bin("initdb"), "-D", str(server.data_dir), "--auth=trust", "--username=postgres"]
    postgres._run([*initdb, "--encoding=UTF8", "--locale=C"])
    try:
        postgres.start()
        assert not postgres.TRUST.search((server.data_dir / "pg_hba.conf").read_text())
        with psycopg2.connect(libpq_url(warehouse_url())) as conn, conn.cursor() as cur:
            cur.execute("select current_user")
            assert cur.fetchone()[0] == "postgres"
        deadline = time.monotonic() + 120  # the reload reaches the postmaster a moment later
        while (refused := _psql_as_other_user("127.0.0.1")).returncode == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert any(reason in refused.stderr for reason in REFUSED), refused
    finally:
        server.stop()
