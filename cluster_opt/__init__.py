"""cluster-opt: choose where to build industrial clusters.

The pipeline: config → units → layers → features → scores → problem → solution → run directory.

    import cluster_opt as co
    result = co.run("configs/battery_belt.yaml")      # or co.run(co.load_config(...))
    result.hubs, result.units, result.clusters          # ids; GeoDataFrames keyed by unit id / cluster
    result.reweight({...}).write("runs/other", overwrite=True)
"""

__version__ = "0.1.0"

_API = {"load_config": "config", "parse_config": "config", "Config": "config", "run": "pipeline", "prepare": "pipeline",
        "select": "pipeline", "RunResult": "pipeline", "validate": "validation", "InputError": "errors", "ConfigError": "errors",
        "DataError": "errors", "InfeasibleError": "errors", "SolverError": "errors", "OutputError": "errors"}
__all__ = sorted(_API)


def __getattr__(name: str):
    """The public API, imported on first use so that ``import cluster_opt`` stays quick."""
    if name in _API:
        from importlib import import_module

        return getattr(import_module(f".{_API[name]}", __name__), name)
    raise AttributeError(f"module 'cluster_opt' has no attribute {name!r}")
