"""The landing zone: every payload kept as received, never rewritten.

data/landing/<source>/<batch>.<ext>, with <batch>.meta.json beside it holding the checksum, the fetch
time, the regions asked for and the request parameters (never a secret). One payload answers every
region of a request. A batch id is the date range plus the payload's checksum: a range that has
landed for these regions is not fetched again unless forced, and a forced re-fetch that brings the
same bytes finds its batch already there.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

from cother.core.regions import Region
from cother.core.settings import get_settings
from cother.ingest.sources import Source


@dataclass(frozen=True)
class LandedBatch:
    batch_id: str
    source: str
    regions: list[str]  # the regions this batch is read for (a subset of those it was fetched for)
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

    @property
    def meta_path(self) -> Path:
        return Path(self.path).with_name(f"{self.batch_id}.meta.json")

    def read(self) -> bytes:
        return Path(self.path).read_bytes()

    def describe(self, region: str | None = None) -> str:
        regions = region or f"{len(self.regions)} regions"
        return f"source {self.source}, region {regions}, dates {self.start}..{self.end}, batch {self.batch_id}"

    @classmethod
    def from_dict(cls, values: dict) -> LandedBatch:
        return cls(**values)


def _folder(source: Source) -> Path:
    return get_settings().landing_dir / source.name


def landed(source: Source, regions: list[Region], start: date, end: date) -> LandedBatch | None:
    """The latest batch already landed for this source and date range that answers every one of these
    regions, read for just these regions; None if there is none."""
    wanted = [region.id for region in regions]
    batches = [
        LandedBatch.from_dict(json.loads(path.read_text(encoding="utf-8")))
        for path in _folder(source).glob(f"{start:%Y%m%d}-{end:%Y%m%d}-*.meta.json")
    ]
    covering = [batch for batch in batches if set(wanted) <= set(batch.regions)]
    latest = max(covering, key=lambda batch: batch.fetched_at, default=None)
    return latest and replace(latest, regions=wanted)


def land(source: Source, regions: list[Region], start: date, end: date, force: bool = False) -> LandedBatch:
    """Fetch and keep one payload for all these regions, unless it has landed before (then it is
    reused, unless forced)."""
    if not force and (existing := landed(source, regions, start, end)):
        return existing
    payload = source.fetch(regions, start, end)
    sha256 = hashlib.sha256(payload.content).hexdigest()
    batch_id = f"{start:%Y%m%d}-{end:%Y%m%d}-{sha256[:12]}"
    folder = _folder(source)
    path = folder / f"{batch_id}.{payload.extension}"
    batch = LandedBatch(
        batch_id=batch_id,
        source=source.name,
        regions=[region.id for region in regions],
        start=start.isoformat(),
        end=end.isoformat(),
        path=str(path),
        sha256=sha256,
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        params=payload.params,
    )
    if batch.meta_path.exists():
        return replace(
            LandedBatch.from_dict(json.loads(batch.meta_path.read_text(encoding="utf-8"))), regions=batch.regions
        )
    folder.mkdir(parents=True, exist_ok=True)
    _write_once(path, payload.content)
    _write_once(batch.meta_path, json.dumps(asdict(batch), indent=2, ensure_ascii=False).encode("utf-8"))
    return batch


def _write_once(path: Path, content: bytes) -> None:
    """Write to a temporary name of this process's own, then rename: a reader never sees half a file, and
    two workers landing the same batch at once each rename a whole copy of the same bytes."""
    partial = path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")
    partial.write_bytes(content)
    partial.replace(path)
