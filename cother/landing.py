"""The landing zone: every payload kept as received, never rewritten.

data/landing/<source>/<region>/<batch>.<ext>, with <batch>.json beside it holding the checksum,
the fetch time and the request parameters. A batch id is the date range plus the payload's checksum,
so landing the same bytes twice finds the file already there.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from cother.regions import Region
from cother.settings import get_settings
from cother.sources import Source


@dataclass(frozen=True)
class LandedBatch:
    batch_id: str
    source: str
    region: str
    start: str
    end: str
    path: str
    sha256: str
    fetched_at: str
    params: dict

    def read(self) -> bytes:
        return Path(self.path).read_bytes()

    @classmethod
    def from_dict(cls, values: dict) -> LandedBatch:
        return cls(**values)


def land(source: Source, region: Region, start: date, end: date) -> LandedBatch:
    payload = source.fetch(region, start, end)
    sha256 = hashlib.sha256(payload.content).hexdigest()
    batch_id = f"{start:%Y%m%d}-{end:%Y%m%d}-{sha256[:12]}"
    folder = get_settings().landing_dir / source.name / region.id
    path = folder / f"{batch_id}.{payload.extension}"
    meta_path = folder / f"{batch_id}.json"
    if meta_path.exists():
        return LandedBatch.from_dict(json.loads(meta_path.read_text(encoding="utf-8")))
    folder.mkdir(parents=True, exist_ok=True)
    _write_once(path, payload.content)
    batch = LandedBatch(
        batch_id=batch_id,
        source=source.name,
        region=region.id,
        start=start.isoformat(),
        end=end.isoformat(),
        path=str(path),
        sha256=sha256,
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        params=payload.params,
    )
    _write_once(meta_path, json.dumps(asdict(batch), indent=2, ensure_ascii=False).encode("utf-8"))
    return batch


def _write_once(path: Path, content: bytes) -> None:
    """Write to a temporary name, then rename: a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(content)
    partial.replace(path)
