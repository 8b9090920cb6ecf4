"""Compare scenarios: the same study run with other weights or rules, side by side."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from ..config import Config, load_config
from ..errors import ConfigError
from ..pipeline import Prepared, RunResult, prepare, select


def prepare_many(cfgs: list[Config], sources: list[str]) -> list[Prepared]:
    """Prepare every scenario, computing units, layers and raw measures once where scenarios share them."""
    cache: dict = {}
    return [prepare(cfg, src, cache=cache) for cfg, src in zip(cfgs, sources)]


@dataclass
class Comparison:
    names: list[str]
    results: list[RunResult]
    table: pd.DataFrame  # one row per unit: score, rank, role, cluster per scenario
    overlap: pd.DataFrame  # one row per pair of scenarios
    movers: pd.DataFrame  # the units whose rank moves most


def scenario_names(cfgs: list[Config]) -> list[str]:
    names = [c.name for c in cfgs]
    if len(set(names)) < len(names):
        raise ConfigError("compare: two configs have the same name (" + ", ".join(n for n in names if names.count(n) > 1) + "); give each scenario its own name")
    return names


def members(res: RunResult) -> set[str]:
    return set(res.prepared.units["id"].to_numpy()[res.solution.member_of >= 0].tolist())


def hubs(res: RunResult) -> set[str]:
    return set(res.prepared.units["id"].to_numpy()[res.solution.hub_index].tolist())


def sites(res: RunResult) -> set[str]:
    """What a scenario picks: its hubs' unit ids, or a chain's new facilities as type:unit id."""
    fac = res.solution.facilities
    if fac is None:
        return hubs(res)
    ids = res.prepared.units["id"].to_numpy()
    return {f"{t}:{ids[u]}" for t, u in zip(fac.type[fac.new], fac.unit[fac.new])}


def roles(res: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: its role ("hub", "member", or for a chain the types of the new facilities it hosts) and its cluster
    number (a hub's cluster; a chain's co-location cluster of a facility it hosts), 0 for none."""
    sol = res.solution
    role = np.where(sol.member_of >= 0, "member", "").astype(object)
    fac = sol.facilities
    if fac is None:
        role[sol.hub_index] = "hub"
        return role, np.where(sol.member_of >= 0, sol.member_of + 1, 0)
    cluster = np.zeros(len(role), int)
    new = np.flatnonzero(fac.new)
    for k in new[np.argsort(fac.unit[new], kind="stable")]:  # a handful of facilities
        u = int(fac.unit[k])
        role[u] = fac.type[k] if role[u] in ("", "member") else f"{role[u]};{fac.type[k]}"
        if fac.cluster[k] >= 0 and cluster[u] == 0:
            cluster[u] = fac.cluster[k] + 1
    return role, cluster


def compare_results(names: list[str], results: list[RunResult]) -> Comparison:
    frames = []
    for name, res in zip(names, results):
        role, cluster = roles(res)
        frames.append(pd.DataFrame({
            f"score_{name}": res.scores.score.to_numpy(), f"rank_{name}": res.scores.rank.to_numpy(),
            f"role_{name}": role, f"cluster_{name}": pd.array(np.where(cluster > 0, cluster, 0), dtype="Int64"),
        }, index=pd.Index(res.prepared.units["id"].to_numpy(), name="id")))
        frames[-1].loc[cluster == 0, f"cluster_{name}"] = pd.NA
    # Scenarios may cover other study areas: every unit of any scenario, named from the first that has it.
    base = pd.concat([r.prepared.units.set_index("id")[["name", "state"]] for r in results])
    base = base[~base.index.duplicated(keep="first")].sort_index()
    table = base.join(pd.concat(frames, axis=1, join="outer"), how="outer").reset_index()
    # Hubs when every scenario picks hubs; otherwise sites: a chain's new facilities as type:unit id (a hub as hub:unit id).
    chains = any(r.solution.facilities is not None for r in results)
    what = "sites" if chains else "hubs"

    def picked(res: RunResult) -> set[str]:
        return sites(res) if res.solution.facilities is not None or not chains else {f"hub:{h}" for h in hubs(res)}

    rows = []
    for i in range(len(results)):
        for j in range(i + 1, len(results)):
            a, b = results[i], results[j]
            ha, hb, ma, mb = picked(a), picked(b), members(a), members(b)
            common = table[[f"score_{names[i]}", f"score_{names[j]}"]].dropna()
            tau = kendalltau(common.iloc[:, 0], common.iloc[:, 1]).statistic if len(common) > 1 else np.nan
            rows.append({"scenario_a": names[i], "scenario_b": names[j], f"shared_{what}": len(ha & hb),
                         f"shared_{what[:-1]}_ids": ";".join(sorted(ha & hb)), f"{what}_a": len(ha), f"{what}_b": len(hb),
                         "member_units_a": len(ma), "member_units_b": len(mb), "shared_member_units": len(ma & mb),
                         "jaccard_members": len(ma & mb) / len(ma | mb) if ma | mb else 1.0, "kendall_tau_scores": float(tau)})
    overlap = pd.DataFrame(rows)
    ranks = table[[f"rank_{n}" for n in names]]
    moved = table.assign(best_rank=ranks.min(axis=1), worst_rank=ranks.max(axis=1), rank_shift=ranks.max(axis=1) - ranks.min(axis=1))
    movers = moved.sort_values(["rank_shift", "id"], ascending=[False, True]).head(20)[["id", "name", "state", "best_rank", "worst_rank", "rank_shift"]]
    return Comparison(names, results, table, overlap, movers)


def compare(configs: list[Config | str | Path], step=None) -> Comparison:
    """Run several scenarios (configs or their files), sharing units, layers and measures, and compare them."""
    cfgs = [c if isinstance(c, Config) else load_config(c) for c in configs]
    names = scenario_names(cfgs)
    preps = prepare_many(cfgs, [str(c.source or c.name) for c in cfgs])
    results = []
    for name, prep in zip(names, preps):
        if step:
            step(name)
        results.append(select(prep))
    return compare_results(names, results)
