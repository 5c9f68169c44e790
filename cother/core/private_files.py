"""Files in the runtime folder that only their owner may read: generated secrets and passwords."""

from __future__ import annotations

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
