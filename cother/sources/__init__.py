"""The sources CO-THER ingests, by name."""

from cother.sources.base import Payload, Source, SourceError
from cother.sources.sample import SampleCases, SampleWeather

SOURCES: dict[str, Source] = {source.name: source for source in (SampleWeather(), SampleCases())}


def get_source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {sorted(SOURCES)}") from None


__all__ = ["Payload", "Source", "SourceError", "SOURCES", "get_source"]
