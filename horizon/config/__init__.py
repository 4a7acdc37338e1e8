"""Client files: loading, validation, the Fleet they form, and the schema they follow."""

from horizon.config.fleet import Fleet
from horizon.config.loader import LoadResult, load_fleet

__all__ = ["Fleet", "LoadResult", "load_fleet"]
