"""Files in the runtime folder that only their owner may read: generated secrets and passwords."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def private_file(path: Path, text: str | None = None) -> Path:
    """The file with mode 0600, set before anything is written to it (a program that later writes an
    existing file keeps its mode); `text` written when given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    if text is not None:
        path.write_text(text)
    return path


def generated_secret(path: Path) -> str:
    """The secret in `path`, generated there once (mode 0600): written aside and linked into place, so
    that two first callers read the same one."""
    if not path.exists():
        draft = private_file(path.with_name(f".{path.name}.{os.getpid()}"), secrets.token_urlsafe(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
