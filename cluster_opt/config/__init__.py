"""The run config: a YAML file validated into typed, defaulted pydantic models.

Key names follow the reference config in the architecture notes; they are the public contract.
Relative paths resolve against the config file's folder. Modules: ``types`` (strict numbers,
names), ``parts`` (study area, units, layers, criteria, selection, solver), ``chain`` (facility
types, links, co-location clusters), ``scenario`` (the
Config and reading it), ``problems`` (every problem in the planner's words).
"""

from ..states import CONUS, FIPS_STATE, STATE_FIPS
from .chain import Colocation, ExistingSites, FacilityType, Link, NewCount, SiteRules
from .parts import CountyUnits, Criterion, FileUnits, H3Units, Layer, Measure, Selection, Solver, StudyArea, Units, Weights
from .scenario import Config, absolute, json_schema, load_config, parse_config, reference_problems
from .types import BUILTIN_LAYERS, Int, Key, Num

__all__ = ["Colocation", "ExistingSites", "FacilityType", "Link", "NewCount", "SiteRules", "BUILTIN_LAYERS", "CONUS", "FIPS_STATE", "STATE_FIPS", "Config", "CountyUnits", "Criterion", "FileUnits", "H3Units", "Int",
           "Key", "Layer", "Measure", "Num", "Selection", "Solver", "StudyArea", "Units", "Weights", "absolute", "json_schema",
           "load_config", "parse_config", "reference_problems"]
