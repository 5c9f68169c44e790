"""The sources CO-THER ingests, by name: the bundled sample and the live APIs."""

from cother.ingest.sources.base import (
    Held,
    NothingToLoad,
    Parsed,
    Payload,
    Source,
    SourceDidNotAnswer,
    SourceError,
)
from cother.ingest.sources.kdca import KdcaCases
from cother.ingest.sources.kma import KmaAsosWeather
from cother.ingest.sources.open_meteo import OpenMeteoWeather
from cother.ingest.sources.sample import SampleCases, SampleJhu, SampleOpenMeteo, SampleWeather
from cother.ingest.sources.who import SampleWhoWeekly, WhoCases, WhoWeeklyCases

SOURCES: dict[str, Source] = {
    source.name: source
    for source in (
        SampleWeather(),
        SampleOpenMeteo(),
        SampleCases(),
        SampleJhu(),
        OpenMeteoWeather(),
        KmaAsosWeather(),
        KdcaCases(),
        WhoCases(),
        WhoWeeklyCases(),
        SampleWhoWeekly(),
    )
}


def get_source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {sorted(SOURCES)}") from None


__all__ = [
    "Held",
    "NothingToLoad",
    "Parsed",
    "Payload",
    "Source",
    "SourceDidNotAnswer",
    "SourceError",
    "SOURCES",
    "get_source",
]
