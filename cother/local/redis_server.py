"""The project's Redis, the Celery broker of `make celery`: Debian's redis-server on loopback, run by the
project (not as a system service), its configuration and data in the runtime folder.

A password is generated once and kept in the runtime folder with mode 0600, so another local user
cannot hand the workers a task. Queued messages are kept in an append-only file: a restarted Redis
still holds them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from cother_core.private_files import generated_secret, private_file
from cother_core.settings import get_settings


class RedisMissing(RuntimeError):
    pass


def _folder() -> Path:
    folder = get_settings().redis_dir
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder


def password() -> str:
    return generated_secret(_folder() / "password")


def broker_url() -> str:
    return f"redis://:{password()}@127.0.0.1:{get_settings().redis_port}/0"


def command() -> list[str]:
    """The command that runs the project's Redis in the foreground, its log on standard output."""
    executable = shutil.which("redis-server")
    if not executable:
        raise RedisMissing("redis-server is not installed: `make celery` installs Debian's redis-server")
    folder = _folder()
    config = folder / "redis.conf"
    private_file(
        config,
        f"bind 127.0.0.1\nport {get_settings().redis_port}\nprotected-mode yes\nrequirepass {password()}\n"
        f'dir {folder}\nappendonly yes\nappendfsync everysec\nsave ""\ndaemonize no\nlogfile ""\n',
    )
    return [executable, str(config)]
