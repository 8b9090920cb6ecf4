"""The cluster-opt command line: one typer command per verb, thin shells over the pipeline."""

from __future__ import annotations

import atexit
import json
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .errors import ClusterOptError, InputError, stop_requested

app = typer.Typer(
    name="cluster-opt",
    help="Choose where to build industrial clusters: score regions against geospatial layers and select sites with an exact MILP.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# No markup: names, ids and messages come from configs and data files, and "[/]" in one must print as it is.
out_console = Console(markup=False)
err_console = Console(stderr=True, markup=False)


def _error(text: str) -> None:
    """One error line on stderr: a bold red "error:" and the message, printed as it is."""
    from rich.text import Text

    err_console.print(Text.assemble(("error:", "bold red"), " ", str(text)), highlight=False, soft_wrap=True)

STAGE_TEXT = {
    "units": "Building candidate units",
    "layers": "Loading layers",
    "features": "Measuring units against layers",
    "scores": "Scoring units",
    "solve": "Solving the selection MILP",
    "check": "Re-checking the solution independently",
}


def _fail(e: ClusterOptError) -> None:
    _error(str(e))
    raise typer.Exit(e.exit_code)


INTERRUPTED = "interrupted: nothing was written; earlier outputs are untouched"


@contextmanager
def _planner_errors() -> Iterator[None]:
    """One readable line and the documented exit code for every error a planner can act on.

    Ctrl-C and SIGTERM raise KeyboardInterrupt, which typer turns into exit 130; ``main`` says so.
    """
    try:
        yield
    except ClusterOptError as e:
        if stop_requested.is_set():  # a library turned the interrupt into an error of its own
            raise KeyboardInterrupt from None
        _fail(e)


def _interrupt(signum, frame) -> None:
    stop_requested.set()
    raise KeyboardInterrupt


def _version(value: bool) -> None:
    if value:
        out_console.print(f"cluster-opt {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit.")) -> None:
    """Choose where to build industrial clusters."""


_SCHEDULER = typer.Option(None, "--scheduler", help="Address of a running Dask scheduler (e.g. tcp://10.0.0.5:8786) to spread re-solves over, instead of local workers.")


def _where(workers: int, scheduler: str | None) -> str:
    return f" on {scheduler}" if scheduler else f" on {workers} local worker(s)" if workers else ""


@app.command()
def run(
    config: Path = typer.Argument(..., help="The scenario's YAML config file."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run directory to write (default: runs/<name>)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing run directory."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
    map_mode: str = typer.Option("offline", "--map-mode", help="offline: the map needs no network (state outlines as basemap); online: adds OpenStreetMap tiles as a base layer."),
    workers: int = typer.Option(0, "--workers", "-w", min=0, help="Spread the re-solves of why / why not and of the selection's stability over this many local Dask workers (0: in this process, within 20 s each)."),
    scheduler: Optional[str] = _SCHEDULER,
) -> None:
    """Score every unit, select the best clusters, and write tables, GeoJSON, map.html, report.html and manifest.json."""
    from .config import load_config
    from .outputs import check_target, write_run
    from .pipeline import run as run_pipeline

    with _planner_errors():
        if map_mode not in ("offline", "online"):
            raise InputError(f'--map-mode: expected offline or online, found "{map_mode}"')
        cfg = load_config(config)
        target = out or Path("runs") / cfg.name
        check_target(target, overwrite, cfg.input_paths(), "run")
        with _stages(quiet) as (step, then):
            result = run_pipeline(cfg, str(config), step)
            result.explain(workers, scheduler, progress=then("Why these sites, and how stable: exact re-solves" + _where(workers, scheduler)))
            if (cfg.selection or cfg).alternatives is not None:
                then("Near-optimal alternatives")
                result.alternatives
            then("Writing the run directory")
            write_run(result, target, overwrite, str(config), map_mode)
    from .terminal import print_run

    print_run(out_console, result, target, quiet)


@contextmanager
def _stages(quiet: bool):
    """A progress bar over the pipeline's stages and one more step: (step for the pipeline, then(text) for what follows)."""
    from .pipeline import STAGES

    with Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(), TimeElapsedColumn(),
                  console=err_console, disable=quiet, transient=True) as progress:
        task = progress.add_task("Starting", total=len(STAGES) + 1)

        def step(stage: str) -> None:
            progress.update(task, description=STAGE_TEXT.get(stage, stage), completed=STAGES.index(stage))

        def solver(now) -> None:
            """While the solver works: its best selection so far, the proven bound, the gap and the time left."""
            progress.update(task, description=f"{STAGE_TEXT['solve']}: {now.text()}")

        step.solver = solver

        def then(text: str):
            """Show what follows the pipeline; the callback it returns adds (done of total) to the text."""
            progress.update(task, description=text, completed=len(STAGES))
            return lambda done, total=None: progress.update(task, description=f"{text} ({done} of {total})" if total else f"{text} ({done} done)")

        yield step, then
        progress.update(task, completed=len(STAGES) + 1)


@app.command()
def why(
    config: Path = typer.Argument(..., help="The scenario's YAML config file."),
    unit_ids: Optional[list[str]] = typer.Argument(None, help="Unit ids to explain (5-digit FIPS for counties); none: the chosen sites and the best units not chosen."),
    top: Optional[int] = typer.Option(None, "--top", min=0, help="Without unit ids: how many of the best units not chosen (20; 5 per type for a chain)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
    workers: int = typer.Option(0, "--workers", "-w", min=0, help="Spread the re-solves over this many local Dask workers (0: in this process)."),
    scheduler: Optional[str] = _SCHEDULER,
) -> None:
    """Why these sites, and why not that one: the objective lost by forbidding each chosen site, or by forcing a unit in, from exact re-solves, with the rule, requirement, spacing conflict or criterion that binds."""
    from .analysis.importance import importance
    from .config import load_config
    from .pipeline import run as run_pipeline

    with _planner_errors():
        cfg = load_config(config)
        with _stages(quiet) as (step, then):
            result = run_pipeline(cfg, str(config), step)
            tick = then("Re-solving with each site forced out or in" + _where(workers, scheduler))
            seen: dict = {"done": 0, "total": None}

            def count(n: int, total: int | None = None) -> None:  # importance says first how many answers it will give
                seen["total"] = total if total is not None else seen["total"]
                seen["done"] += n
                tick(seen["done"], seen["total"])

            table = importance(result, top=(0 if unit_ids else None) if top is None else top, units=[str(u) for u in unit_ids] if unit_ids else None,
                               workers=workers, scheduler=scheduler, progress=count)
    out_console.print(f"{cfg.name}: objective {result.solution.objective:.4f}", highlight=False)
    for r in table.to_dict("records"):
        what = f"{r['type']} " if "type" in r else ""
        status = f"chosen {what}site" if r["chosen"] else f"not chosen{' as ' + r['type'] if what else ''}"
        head = f"{r['unit_id']} {r['name']}, {r['state']} ({status}, rank {r['rank']})"
        out_console.print(f"- {head}: {r['reason']}", highlight=False, soft_wrap=True)


@app.command()
def validate(config: Path = typer.Argument(..., help="The scenario's YAML config file.")) -> None:
    """Check a config and the data it names, without solving; report every problem found."""
    from .validation import validate as check

    with _planner_errors():
        found = check(config)
    for p in found.problems:
        _error(p)
    if not found.ok:
        raise typer.Exit(2)
    out_console.print(found.summary(), highlight=False, soft_wrap=True)


@app.command()
def schema() -> None:
    """Print the config's JSON Schema."""
    from .config import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


@app.command()
def compare(
    configs: list[Path] = typer.Argument(..., help="Two or more scenario configs (for example the same study with other weights)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write compare.html, compare.csv, overlap.csv and manifest.json into."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output folder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Run several scenarios and compare them side by side: synchronized maps, shared hubs, overlap, rank correlation."""
    from .analysis.compare import compare as run_compare
    from .config import load_config
    from .outputs import check_target
    from .outputs.analysis import write_compare

    if len(configs) < 2:
        _error("compare: give at least two configs")
        raise typer.Exit(2)
    with _planner_errors():
        cfgs = [load_config(c) for c in configs]
        check_target(out, overwrite, [p for c in cfgs for p in c.input_paths()], "compare")
        with Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(), TimeElapsedColumn(),
                      console=err_console, disable=quiet, transient=True) as progress:
            task = progress.add_task("Preparing units, layers and measures", total=len(configs) + 1)

            def step(name: str) -> None:
                progress.update(task, description=f"Solving {name}", advance=1)

            cmp = run_compare(cfgs, step)
            progress.update(task, description="Writing the comparison", advance=1)
            write_compare(cmp, out, overwrite, [str(c) for c in configs])
    what = "hubs" if "shared_hubs" in cmp.overlap.columns else "sites"  # sites: a chain's new facilities
    table = Table(title="Scenario overlap", title_justify="left")
    for col in ("a", "b", f"shared {what}", "Jaccard of members", "Kendall tau"):
        table.add_column(col)
    for r in cmp.overlap.to_dict("records"):
        table.add_row(r["scenario_a"], r["scenario_b"], f"{r[f'shared_{what}']} of {r[f'{what}_a']}", f"{r['jaccard_members']:.2f}", f"{r['kendall_tau_scores']:.3f}")
    if not quiet:
        out_console.print(table)
    out_console.print(f"wrote {out}/ (compare.html, compare.csv, overlap.csv, manifest.json)")


@app.command()
def sweep(
    config: Path = typer.Argument(..., help="The scenario's YAML config file."),
    samples: int = typer.Option(1000, "--samples", "-n", min=1, max=1_000_000, help="How many weightings to draw."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write frequency.csv, sweep.html and manifest.json into."),
    concentration: float = typer.Option(50.0, "--concentration", min=0.01, help="Dirichlet concentration: higher keeps weightings closer to the config's."),
    grid: Optional[float] = typer.Option(None, "--grid", help="Instead of sampling, every weighting on a grid with this step (e.g. 0.1)."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the sampled weightings."),
    workers: int = typer.Option(2, "--workers", "-w", min=0, help="Dask workers of a local cluster; 0 solves in this process."),
    scheduler: Optional[str] = _SCHEDULER,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output folder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
    vary: Optional[str] = typer.Option(None, "--vary", help="Instead of weights, vary a rule: KEY=START:STOP:STEP with KEY clusters, cluster_radius_km, min_spacing_km, max_per_state or requirements.NAME (e.g. clusters=2:6:1); writes rules.csv and a compare page."),
) -> None:
    """Solve the selection for many weightings around the config's and map how often each unit is chosen (or, with --vary, for each value of a rule)."""
    if vary is not None:
        _vary(config, vary, out, overwrite, quiet)
        return
    from .analysis.sweep import build_setup, run_sweep, sample_weights
    from .config import load_config
    from .outputs import check_target
    from .outputs.analysis import write_sweep
    from .pipeline import prepare, select

    with _planner_errors():
        cfg = load_config(config)
        check_target(out, overwrite, cfg.input_paths(), "sweep")
        try:
            weights = sample_weights(cfg.criterion_weights(), samples, concentration, seed, grid)
        except ValueError as e:
            raise InputError(str(e)) from None
        with Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=err_console, disable=quiet, transient=True) as progress:
            task = progress.add_task("Measuring units and solving the config's own weights", total=len(weights))
            prep = prepare(cfg, str(config))
            base = select(prep)
            setup = build_setup(prep, base)
            progress.update(task, description=f"Solving {len(weights):,} weightings" + _where(workers, scheduler))
            result = run_sweep(setup, weights, workers, scheduler, progress=lambda k: progress.update(task, advance=k))
            write_sweep(setup, result, base, out, overwrite, {"samples": samples, "concentration": concentration, "grid": grid, "seed": seed})
    out_console.print(f"{len(result.results):,} weightings solved in {result.seconds:.1f} s on {result.scheduler} ({result.workers} worker(s)); "
                      f"wrote {out}/ (frequency.csv, weightings.csv, hub_weight_ranges.csv, stability.csv, sweep.html, manifest.json)")


def _vary(config: Path, vary: str, out: Path, overwrite: bool, quiet: bool) -> None:
    """sweep --vary: one solve per value of a rule, written side by side as compare writes scenarios."""
    from .analysis.compare import compare_results
    from .analysis.rules import parse_vary, rule_sweep
    from .config import load_config
    from .outputs import check_target
    from .outputs.analysis import write_compare
    from .maps import esc

    with _planner_errors():
        cfg = load_config(config)
        check_target(out, overwrite, cfg.input_paths(), "compare")  # written as compare writes scenarios
        key, values = parse_vary(vary, cfg)
        with Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=err_console, disable=quiet, transient=True) as progress:
            task = progress.add_task("Measuring units", total=len(values))
            table, names, results = rule_sweep(cfg, key, values, lambda text: progress.update(task, description=f"Solving {text}", advance=1))
            if not results:
                raise InputError(f"--vary {key}: no value from {values[0]} to {values[-1]} has a selection that meets the rules")
            intro = (f"<p>The scenario {esc(cfg.name)} solved for each value of <b>{esc(key)}</b> from {esc(values[0])} to {esc(values[-1])}; "
                     "rules.csv lists every value, with the rule that fails where none meets them.</p>")
            write_compare(compare_results(names, results), out, overwrite, [str(config)], {"rules": table}, intro)
    summary = Table(title=f"{cfg.name}: {key}", title_justify="left")
    for col in ("value", "status", "objective", "hubs"):
        summary.add_column(col, overflow="fold")
    for r in table.to_dict("records"):
        summary.add_row(str(r["value"]), r["status"], "" if r["objective"] != r["objective"] else f"{r['objective']:.4f}",
                        r["hub_names"].replace(";", ", ") or r["reason"])
    if not quiet:
        out_console.print(summary)
    out_console.print(f"wrote {out}/ (rules.csv, compare.html, compare.csv, overlap.csv, manifest.json)")


@app.command()
def explore(
    config: Path = typer.Argument(..., help="The scenario's YAML config file."),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="Port of the local web app."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; anything but 127.0.0.1 or localhost lets other machines reach it."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open the page in a browser."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Explore live: move the weights and rules in a local web page and see the exact optimum re-solved (Ctrl-C stops it)."""
    from .explore.server import serve
    from .explore.session import Explorer

    with _planner_errors():
        if host not in ("127.0.0.1", "localhost"):
            err_console.print(f"warning: listening on {host}: other machines on the network can reach the explorer and solve with it", highlight=False)
        with _stages(quiet) as (step, then):
            explorer = Explorer(config, step)

        def ready(url: str) -> None:
            out_console.print(f"{explorer.cfg.name}: exploring at {url} (Ctrl-C stops)", highlight=False)
            if not no_browser:
                import webbrowser

                webbrowser.open(url)

        try:
            serve(explorer, host, port, on_ready=ready)
        except OSError as e:
            raise InputError(f"--port {port}: cannot listen on {host}:{port} ({e.strerror or e}); choose another --port") from None


data_app = typer.Typer(help="Build and manage the embedded data.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("build")
def data_build(
    out: Path = typer.Option(None, "--out", help="Folder to write into (default: the embedded geodata folder)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace labor_2009.csv in --out if it is there (a table written before)."),
) -> None:
    """Rebuild the tables made from installed packages (labor_2009.csv) and cache the county boundaries."""
    from . import geodata
    from .databuild import build_labor
    from .files import replaceable_file

    with _planner_errors():
        target = out or geodata.geodata_dir()
        if out is not None:  # the embedded table is the project's own; a file in the planner's folder is replaced only when asked
            replaceable_file(Path(out) / "labor_2009.csv", overwrite)
        with err_console.status("Building county boundaries and labor_2009.csv"):
            n = len(geodata.counties())
            df = build_labor(Path(target) / "labor_2009.csv")
    out_console.print(f"{n:,} counties cached in {geodata.cache_dir()}; wrote {Path(target) / 'labor_2009.csv'} ({len(df):,} counties)")


@data_app.command("import")
def data_import(
    kind: str = typer.Argument(..., help="power_plants | ports | labor | minerals"),
    file: Path = typer.Argument(..., help="The official download (CSV)."),
    out: Path = typer.Option(..., "--out", "-o", help="Layer file to write: .parquet (GeoParquet) or .gpkg (GeoPackage)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace --out if it exists (a layer file written before)."),
) -> None:
    """Convert an official dataset (EIA plants, USACE ports, Census estimates, MRDS / MinMod sites) into a layer file."""
    from .importers import import_file

    with _planner_errors():
        with err_console.status(f"Importing {file}"):
            g = import_file(kind, file, out, overwrite)
    value = {"power_plants": "capacity_mw", "ports": "total_tons", "labor": "population", "minerals": None}[kind]
    out_console.print(f"wrote {out}: {len(g):,} {kind.replace('_', ' ')} (EPSG:4326)" + (f"; use it as a layer with value: {value}" if value else ""))
    for why, n in g.attrs.get("skipped", {}).items():
        if n:
            out_console.print(f"note: {n:,} rows left out: {why}")


@data_app.command("fetch")
def data_fetch(
    kind: str = typer.Argument(..., help="power_plants | ports | labor | minerals"),
    year: Optional[str] = typer.Option(None, "--year", help="The release: a vintage (e.g. 2019, 2023) or a name (e.g. minmod-nickel); default: the first registered."),
    mirror: Optional[str] = typer.Option(None, "--mirror", help="A mirror keeping the registry's layout (default: $CLUSTER_OPT_DATA_MIRROR, else the publisher)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Layer file to write (.parquet or .gpkg; default: in the cache)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace --out if it exists (a layer file written before)."),
) -> None:
    """Download an official release into the cache, check its pinned SHA-256, and convert it into a layer file."""
    from rich.progress import DownloadColumn, TransferSpeedColumn

    from .fetch import fetch, release_of

    with _planner_errors():
        rel = release_of(kind, year)
        with Progress(TextColumn("{task.description}", markup=False), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                      console=err_console, transient=True) as progress:
            task = progress.add_task(f"Downloading {rel.path}", total=None)
            path, n, rel = fetch(kind, year, mirror, out, lambda done, total: progress.update(task, completed=done, total=total), overwrite)
    out_console.print(f"wrote {path}: {n:,} {kind.replace('_', ' ')} from {rel.path} (release {rel.release}, SHA-256 checked); "
                      f"use it as a layer with source: {path}", highlight=False, soft_wrap=True)


def main() -> None:
    """The console entry point: Ctrl-C and SIGTERM stop any command the same way (exit 130, nothing half written)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, _interrupt)
        except ValueError:  # not the main thread
            pass
    try:
        app()
    except SystemExit as e:
        if e.code != 130:
            raise
        err_console.print(INTERRUPTED, highlight=False)
        # Cleanup has run (finally blocks, then the exit handlers); exit now, so that the interrupt flag
        # the interpreter may keep cannot turn exit 130 into death by SIGINT at shutdown.
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
