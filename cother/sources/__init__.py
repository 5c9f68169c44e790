"""The sources CO-THER ingests, by name: the bundled sample and the live APIs."""

from cother.sources.base import Parsed, Payload, Source, SourceError
from cother.sources.kdca import KdcaCases
from cother.sources.kma import KmaAsosWeather
from cother.sources.open_meteo import OpenMeteoWeather
from cother.sources.sample import SampleCases, SampleJhu, SampleOpenMeteo, SampleWeather
from cother.sources.who import WhoCases

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
    )
}


def get_source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {sorted(SOURCES)}") from None


__all__ = ["Parsed", "Payload", "Source", "SourceError", "SOURCES", "get_source"]
