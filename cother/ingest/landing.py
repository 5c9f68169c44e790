"""The landing zone: every payload kept as received, never rewritten.

data/landing/<source>/<batch>.<ext>, with <batch>.meta.json beside it holding the checksum, the fetch
time, the regions asked for and what each was asked by (its name, station or point), the request
parameters (never a secret) and the redirects its answers followed. One payload answers every
region of a request. A batch id is the date range plus the payload's checksum: a range that has
landed for these regions, asked by the names the configuration gives them now, is not fetched again
unless forced (a region renamed since is fetched anew), and a forced re-fetch that brings the
same bytes finds its batch already there (its meta then records the names of this fetch too).

Which batch of a range is current is the order of data/landing/<source>/fetches.jsonl, a line
appended at every fetch, not a timestamp: a forced re-fetch that brings back earlier bytes makes
their batch current again. A line that cannot be read (torn by a crash mid-append) is left out of the
order, named, and cut off before the next line is appended. A payload is checked against its checksum
whenever it is read; a current batch whose payload is missing (removed since it landed) is named and
fetched again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

from cother.ingest.sources import Source, SourceError
from cother_core.regions import Region
from cother_core.settings import get_settings


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
    redirects: list[dict] = field(default_factory=list)  # followed by the fetch's answers: status, from, to
    # per region, what the fetch asked the source for it by (Source.asked_as: its name, station or point);
    # empty in a batch landed before it was kept, which is then fetched again rather than trusted
    asked: dict[str, str | None] = field(default_factory=dict)

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
        """The payload; a SourceError naming the file when its bytes are not those that landed."""
        try:
            content = Path(self.path).read_bytes()
        except FileNotFoundError:
            raise SourceError(
                f"{self.source}: landing file {self.path} is missing: expected the payload of batch {self.batch_id};"
                " observed no file (removed since it landed); run again to fetch it anew"
            ) from None
        observed = hashlib.sha256(content).hexdigest()
        if observed != self.sha256:
            raise SourceError(
                f"{self.source}: landing file {self.path} is damaged: expected sha256 {self.sha256}, observed"
                f" {observed} ({len(content)} bytes); run again with force_fetch to land it anew"
            )
        return content

    def describe(self, region: str | None = None) -> str:
        regions = region or f"{len(self.regions)} regions"
        return f"source {self.source}, region {regions}, dates {self.start}..{self.end}, batch {self.batch_id}"

    @classmethod
    def from_dict(cls, values: dict) -> LandedBatch:
        return cls(**values)


def _folder(source: Source) -> Path:
    return get_settings().landing_dir / source.name


def _fetches(source: Source) -> Path:
    return _folder(source) / "fetches.jsonl"


def _fetch_order(source: Source) -> dict[str, int]:
    """Each batch id's place in the order of fetches, its last fetch counting; a line that cannot be
    read is named and left out."""
    log = _fetches(source)
    order = {}
    for number, line in enumerate(log.read_bytes().splitlines() if log.exists() else []):
        try:
            order[json.loads(line)["batch_id"]] = number
        except (ValueError, TypeError, KeyError):
            if line.strip():
                print(
                    f"{source.name}: {log}, line {number + 1}: expected a fetch; observed {line[:80]!r}, torn"
                    " (a fetch cut off mid-append?): left out of the order of fetches"
                )
    return order


def _log_fetch(source: Source, batch_id: str) -> None:
    """Append the fetch to the log, one appender at a time; a torn last line is cut off first, so that
    the new line starts a line of its own."""
    line = json.dumps({"batch_id": batch_id, "fetched_at": datetime.now(UTC).isoformat()}) + "\n"
    with _fetches(source).open("a+b") as log:
        fcntl.flock(log, fcntl.LOCK_EX)
        log.seek(0)
        content = log.read()
        if content and not content.endswith(b"\n"):
            whole = content.rfind(b"\n") + 1
            print(f"{source.name}: {log.name}: cut off its torn last line {content[whole:][:80]!r}")
            log.truncate(whole)
        log.write(line.encode("utf-8"))  # appended: the file is open for appending


def _asked(source: Source, regions: list[Region]) -> dict[str, str | None]:
    return {region.id: source.asked_as(region) for region in regions}


def landed(source: Source, regions: list[Region], start: date, end: date) -> LandedBatch | None:
    """The batch last fetched for this source and date range that answers every one of these regions as
    the configuration asks for them now (by the same name, station or point: a region renamed since is
    fetched anew), read for just these regions; None if there is none. (Batches landed before the fetch
    log existed come before every logged one, in the order of their fetch times.)"""
    wanted = _asked(source, regions)
    batches = [
        LandedBatch.from_dict(json.loads(path.read_text(encoding="utf-8")))
        for path in _folder(source).glob(f"{start:%Y%m%d}-{end:%Y%m%d}-*.meta.json")
    ]
    covering = [batch for batch in batches if wanted.items() <= batch.asked.items()]
    order = _fetch_order(source)
    latest = max(covering, key=lambda batch: (order.get(batch.batch_id, -1), batch.fetched_at), default=None)
    if latest and not Path(latest.path).exists():
        print(
            f"{source.name}: landing file {latest.path} of batch {latest.batch_id} is missing (removed since it"
            " landed): fetching it again"
        )
        return None
    return latest and replace(latest, regions=list(wanted), asked=wanted)


def land(source: Source, regions: list[Region], start: date, end: date, force: bool = False) -> LandedBatch:
    """Fetch and keep one payload for all these regions, unless it has landed before (then it is
    reused, unless forced). The batch is the part of start..end the payload holds (Source.held): a
    range a weekly file held only in part is fetched again by the next run that asks for it, and one it
    holds none of is not landed (NothingToLoad)."""
    if not force and (existing := landed(source, regions, start, end)):
        return existing
    try:
        payload = source.fetch(regions, start, end)
    finally:
        redirects = source.take_redirects()  # this fetch's, kept only when it lands
    held = source.held(payload.content, regions, start, end)
    if held.note:
        print(held.note)
    end = held.last_day
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
        redirects=redirects,
        asked=_asked(source, regions),
    )
    folder.mkdir(parents=True, exist_ok=True)
    if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
        _write_once(path, payload.content)  # new, or a damaged copy put right by the same bytes
    if batch.meta_path.exists():  # these very bytes landed before: that batch, its first fetch time kept
        first = LandedBatch.from_dict(json.loads(batch.meta_path.read_text(encoding="utf-8")))
        if not batch.asked.items() <= first.asked.items():  # asked by other names that brought the same bytes
            _write_meta(replace(first, asked={**first.asked, **batch.asked}))
        batch = replace(first, regions=batch.regions, asked=batch.asked)
    else:
        _write_meta(batch)
    _log_fetch(source, batch_id)
    return batch


def _write_meta(batch: LandedBatch) -> None:
    _write_once(batch.meta_path, json.dumps(asdict(batch), indent=2, ensure_ascii=False).encode("utf-8"))


def _write_once(path: Path, content: bytes) -> None:
    """Write to a temporary name of this process's own, then rename: a reader never sees half a file, and
    two workers landing the same batch at once each rename a whole copy of the same bytes."""
    partial = path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")
    partial.write_bytes(content)
    partial.replace(path)
