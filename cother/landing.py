"""The landing zone: every payload kept as received, never rewritten.

data/landing/<source>/<region>/<batch>.<ext>, with <batch>.meta.json beside it holding the checksum,
the fetch time and the request parameters (never a secret). A batch id is the date range plus the
payload's checksum: a range that has landed is not fetched again unless forced, and a forced
re-fetch that brings the same bytes finds its batch already there.
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

    @property
    def first_day(self) -> date:
        return date.fromisoformat(self.start)

    @property
    def last_day(self) -> date:
        return date.fromisoformat(self.end)

    def read(self) -> bytes:
        return Path(self.path).read_bytes()

    @classmethod
    def from_dict(cls, values: dict) -> LandedBatch:
        return cls(**values)


def _folder(source: Source, region: Region) -> Path:
    return get_settings().landing_dir / source.name / region.id


def landed(source: Source, region: Region, start: date, end: date) -> LandedBatch | None:
    """The latest batch already landed for exactly this source, region and date range, if any."""
    batches = [
        LandedBatch.from_dict(json.loads(path.read_text(encoding="utf-8")))
        for path in _folder(source, region).glob(f"{start:%Y%m%d}-{end:%Y%m%d}-*.meta.json")
    ]
    return max(batches, key=lambda batch: batch.fetched_at, default=None)


def land(source: Source, region: Region, start: date, end: date, force: bool = False) -> LandedBatch:
    """Fetch and keep the payload, unless this range has landed before (then it is reused, unless forced)."""
    if not force and (existing := landed(source, region, start, end)):
        return existing
    payload = source.fetch(region, start, end)
    sha256 = hashlib.sha256(payload.content).hexdigest()
    batch_id = f"{start:%Y%m%d}-{end:%Y%m%d}-{sha256[:12]}"
    folder = _folder(source, region)
    path = folder / f"{batch_id}.{payload.extension}"
    meta_path = folder / f"{batch_id}.meta.json"
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
