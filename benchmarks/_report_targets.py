"""The "targets" part of the benchmarks page: four scripts against their targets.

``make_report.py --only targets`` runs ``bench_linear.py``, ``bench_floor.py``,
``bench_big_networks.py`` and ``bench_threads.py``, each in a fresh process
(BLAS starts with the machine's default threads, whatever this process set),
and renders one section per script: each ratio measured side by side in one
process, the target set for it, and whether it is met, computed here from the
numbers.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _rst import heading, list_table, seconds

BENCHMARKS = Path(__file__).resolve().parent

SCRIPTS = {
    "linear": "bench_linear.py",
    "floor": "bench_floor.py",
    "big_networks": "bench_big_networks.py",
    "threads": "bench_threads.py",
}

# Unset for the scripts, so that "default BLAS threads" means the machine's
# default (bench_threads.py and bench_big_networks.py compare it with one
# thread; bench_floor.py's n_jobs rows use the threads the package chooses).
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

# Targets. Linear fits on tall data (n_samples > n_features): the whole fit
# (coefficients, tangent, dof, noise variance) against Ridge(solver="cholesky").
TALL_FIT_OVER_RIDGE = 1.2
# Scoring against the floor: the linear model's predict, regularity_sensitivity
# and influence_score (with or without labels); its predict(return_std=True);
# a network's influence_score (with or without labels).
LINEAR_SCORING_OVER_FLOOR = 1.5
LINEAR_STD_OVER_FLOOR = 3.0
NETWORK_SCORE_OVER_FLOOR = 2.0
# A network's influence_score over its predict on the same pool, one thread.
NETWORK_SCORE_OVER_PREDICT = 1.5
# n_jobs=k against n_jobs=1: k=2 on an idle machine, both models; up to the
# core count for a network (the linear model: as far as memory bandwidth allows,
# no number set).
JOBS_2_SPEEDUP = 1.7
NETWORK_SPEEDUP_PER_JOB = 0.6
# Network fit + tangent + dof + Laplace against MLPRegressor.fit.
NETWORK_FIT_OVER_MLP = 3.0
# Default BLAS threads against one thread (our fit and scoring).
DEFAULT_OVER_ONE_THREAD = 1.2

# The wide shapes have no number set: the ratios measured before the dual
# form existed (n_samples, n_features), for comparison.
WIDE_BEFORE_DUAL = {
    (50, 2_000): "45×",
    (50, 5_000): "1,300×",
    (200, 5_000): "26×",
    (10, 20_000): "a MemoryError",
}

LINEAR_SCORING_CALLS = ("predict", "regularity_sensitivity", "influence_score",
                        "influence_score(y)")


def script_command(name, args):
    """The command line of one script (no trailing space: an RST literal forbids it)."""
    return " ".join([f"python benchmarks/{SCRIPTS[name]}", *args])


def run_targets(config):
    """Run the four scripts with ``config`` (script name -> arguments); their results.

    Each runs in its own process and writes its results with ``--json``; a
    script that fails stops the report (no page with a part missing).
    """
    env = {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, script in SCRIPTS.items():
            path = Path(tmp) / f"{name}.json"
            command = [sys.executable, str(BENCHMARKS / script), *config[name],
                       "--json", str(path)]
            tic = time.perf_counter()
            completed = subprocess.run(command, env=env, cwd=BENCHMARKS.parent)
            if completed.returncode != 0:
                raise SystemExit(
                    f"{script_command(name, config[name])} failed (exit status "
                    f"{completed.returncode}; its output is above): no page written.")
            result = json.loads(path.read_text())
            result["wall_seconds"] = time.perf_counter() - tic
            result["command_args"] = list(config[name])
            results[name] = result
    return results


# --------------------------------------------------------------------------
# Targets and verdicts, computed from the numbers.
# --------------------------------------------------------------------------
def _at_most(value, bound):
    return f"≤ {bound:g}×", value <= bound


def _at_least(value, bound):
    return f"≥ {bound:.3g}×", value >= bound


def verdict(met):
    return "" if met is None else ("met" if met else "**missed**")


def linear_target(row):
    """Target text and verdict (None: no number set) of a ``bench_linear.py`` row."""
    if not row["key"].startswith("fit_"):
        return "none set", None
    if row["n_samples"] > row["n_features"]:
        return _at_most(row["ratio"], TALL_FIT_OVER_RIDGE)
    before = WIDE_BEFORE_DUAL.get((row["n_samples"], row["n_features"]))
    return ("none set" + (f" ({before} before the dual form)" if before else "")), None


def floor_target(row):
    """Target text and verdict of a ``bench_floor.py`` ratio row (a call against its floor)."""
    call = row["call"]
    if row["model"] == "linear":
        if call in LINEAR_SCORING_CALLS:
            return _at_most(row["ratio"], LINEAR_SCORING_OVER_FLOOR)
        if call == "predict(return_std)":
            return _at_most(row["ratio"], LINEAR_STD_OVER_FLOOR)
        return "reference", None  # Ridge.predict
    if call.startswith("influence_score"):
        return _at_most(row["ratio"], NETWORK_SCORE_OVER_FLOOR)
    return "none set", None


def network_score_over_predict(ratio_rows):
    """Per network, pool size and dtype: influence_score's time over predict's."""
    times = {(r["rows"], r["model"], r["dtype"], r["call"]): r["seconds"] for r in ratio_rows}
    rows = []
    for (n_rows, model, dtype, call), t in times.items():
        if model == "linear" or call != "influence_score":
            continue
        predict = times.get((n_rows, model, dtype, "predict"))
        if predict:
            rows.append({"rows": n_rows, "model": model, "dtype": dtype, "seconds": t,
                         "predict_seconds": predict, "ratio": t / predict})
    return rows


def jobs_target(row):
    """Target text and verdict of an ``n_jobs`` row (speed-up over ``n_jobs=1``)."""
    k = row["n_jobs"]
    if k == 1:
        return "reference", None
    bounds = [JOBS_2_SPEEDUP] if k == 2 else []
    if row["model"] != "linear":
        bounds.append(NETWORK_SPEEDUP_PER_JOB * k)
    if not bounds:
        return "none set (memory bandwidth)", None
    return _at_least(row["speedup"], max(bounds))


def thread_target(row):
    """Target of a ``bench_threads.py`` row: our calls only; a peer or a product has none."""
    if row["what"].startswith("ours"):
        return _at_most(row["ratio"], DEFAULT_OVER_ONE_THREAD)
    return "none set", None


def target_rows(targets):
    """Every row with a target, as (table, description, verdict), over the four scripts."""
    out = []
    for row in targets["linear"]["rows"]:
        out.append(("linear fits", row["what"], linear_target(row)[1]))
    floor = targets["floor"]
    for row in floor.get("ratios", []):
        out.append(("scoring against the floor",
                    f"{row['call']}, {row['model']}, {row['dtype']}, {row['rows']:,} rows",
                    floor_target(row)[1]))
    for row in network_score_over_predict(floor.get("ratios", [])):
        ratio = row["ratio"]
        out.append(("network influence_score over predict",
                    f"{row['model']}, {row['dtype']}, {row['rows']:,} rows",
                    ratio <= NETWORK_SCORE_OVER_PREDICT))
    for row in floor.get("jobs", []):
        out.append(("n_jobs speed-up", f"{row['model']}, n_jobs={row['n_jobs']}",
                    jobs_target(row)[1]))
    for row in targets["big_networks"]["rows"]:
        out.append(("network fits", f"{tuple(row['network'])}, n={row['n_samples']}",
                    network_fit_target(row)[1]))
    for row in targets["threads"]["rows"]:
        out.append(("BLAS threads", f"{row['what']} ({row['condition']})",
                    thread_target(row)[1]))
    return [r for r in out if r[2] is not None]


# --------------------------------------------------------------------------
# The section.
# --------------------------------------------------------------------------
def _ratio(x):
    return f"{x:.2f}×"


def _command(targets, name):
    return f"``{script_command(name, targets[name]['command_args'])}``"


# The summary names at most this many missed rows per table.
MISSED_LISTED = 4


def summary_table(targets):
    rows = target_rows(targets)
    tables = list(dict.fromkeys(t for t, _, _ in rows))
    table_rows = []
    for table in tables:
        verdicts = [(what, met) for t, what, met in rows if t == table]
        missed = [what for what, met in verdicts if not met]
        shown = "; ".join(missed[:MISSED_LISTED]) or "none"
        if len(missed) > MISSED_LISTED:
            shown += f"; and {len(missed) - MISSED_LISTED} more (in bold below)"
        table_rows.append([table, f"{len(verdicts) - len(missed)} of {len(verdicts)}", shown])
    n_met = sum(met for _, _, met in rows)
    return (f"Of the {len(rows)} ratios that have a target, {n_met} meet it.\n\n"
            + list_table(["table", "targets met", "missed"], table_rows))


def linear_section(targets):
    linear = targets["linear"]
    parts = [heading("Linear fits against scikit-learn", "~")]
    parts.append(
        "The whole fit (coefficients, tangent, effective degrees of freedom, noise "
        "variance) against ``Ridge(alpha=1).fit`` on the same data: on tall data "
        "against ``Ridge(solver='cholesky')``, on wide data (fewer samples than "
        "features, where both fit through the samples' n x n system) against ``Ridge``'s "
        "``solver='auto'``; ``CuriousRegressorCV`` against ``RidgeCV`` over the same 10 "
        "alphas; and ``influence_score`` on an unlabelled pool against our own "
        f"``predict``. Best of {linear['config']['repeat']}, the two sides interleaved. "
        "No target is set for wide data, the cross-validated fit or scoring; for the wide "
        "shapes the ratio measured before the dual form is given instead. "
        f"Command: {_command(targets, 'linear')}.\n")
    rows = []
    for row in linear["rows"]:
        target, met = linear_target(row)
        rows.append([row["what"], seconds(row["seconds"]), seconds(row["reference_seconds"]),
                     _ratio(row["ratio"]), target, verdict(met)])
    parts.append(list_table(["what", "ours", "reference", "ratio", "target", "met or missed"],
                            rows))
    return "\n".join(parts)


def _pivot_sweep(rows, default, unit):
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    keys = list(dict.fromkeys((r["model"], r["dtype"]) for r in rows))
    by = {(r["model"], r["dtype"], r["setting"]): r for r in rows}
    header = ["model", "dtype"] + [f"{s} {unit}" + (" (default)" if s == default else "")
                                   for s in settings]
    table = [[m, d] + [_ratio(by[(m, d, s)]["over_best"]) for s in settings]
             for m, d in keys]
    return list_table(header, table)


def floor_section(targets):
    floor = targets["floor"]
    cfg = floor["config"]
    clock = "CPU time of this process" if cfg.get("clock") == "cpu" else "wall-clock time"
    parts = [heading("Scoring a pool against its floor", "~")]
    parts.append(
        "**The floor** is the one product every way of scoring needs, taken in the pool's "
        "own dtype (float32 or float64) on one BLAS thread: for the linear model the "
        "matrix-vector product ``pool @ w`` with its coefficients, for a network the first "
        "layer's product ``pool @ W1``. Each call is timed beside its own floor, the two "
        f"interleaved, best of {cfg['repeat']} ({clock}), on a standard normal pool of "
        "50 features; the linear model is fitted on 2,000 rows, the networks on 300. "
        "``Ridge.predict`` (a ``Ridge`` fitted on the same rows) is shown for reference. "
        "Targets: the linear model's ``predict``, ``regularity_sensitivity`` and "
        f"``influence_score`` (with or without labels) at most {LINEAR_SCORING_OVER_FLOOR:g} "
        f"times the floor, its ``predict(return_std=True)`` at most {LINEAR_STD_OVER_FLOOR:g} "
        f"times; a network's ``influence_score`` at most {NETWORK_SCORE_OVER_FLOOR:g} times "
        f"its floor. Command: {_command(targets, 'floor')}.\n")
    rows = []
    for row in floor.get("ratios", []):
        target, met = floor_target(row)
        rows.append([f"{row['rows']:,}", row["model"], row["dtype"], row["call"],
                     seconds(row["seconds"]), seconds(row["floor_seconds"]),
                     _ratio(row["ratio"]), target, verdict(met)])
    parts.append(list_table(["pool rows", "model", "dtype", "call", "time", "floor", "ratio",
                             "target", "met or missed"], rows))
    over_predict = network_score_over_predict(floor.get("ratios", []))
    if over_predict:
        parts.append(
            "A network's ``influence_score`` against its ``predict`` on the same pool (the "
            "times of the table above, one thread): the forward-mode product should not "
            "cost a second full first-layer product.\n")
        rows = []
        for row in over_predict:
            target, met = _at_most(row["ratio"], NETWORK_SCORE_OVER_PREDICT)
            rows.append([f"{row['rows']:,}", row["model"], row["dtype"],
                         seconds(row["seconds"]), seconds(row["predict_seconds"]),
                         _ratio(row["ratio"]), target, verdict(met)])
        parts.append(list_table(["pool rows", "model", "dtype", "influence_score", "predict",
                                 "ratio", "target", "met or missed"], rows))
    if floor.get("jobs"):
        jobs = floor["jobs"]
        parts.append(heading("Threads: n_jobs", "^"))
        parts.append(
            f"``influence_score`` on a float32 pool of {jobs[0]['rows']:,} rows with "
            f"``n_jobs=k`` against ``n_jobs=1``, wall-clock time, on {jobs[0]['cores']} "
            "cores (BLAS threads as the package chooses them: one per job). Targets: at "
            f"least {JOBS_2_SPEEDUP:g}× at ``n_jobs=2`` on an idle machine for both models "
            "(see the load average below), and for a network at least "
            f"{NETWORK_SPEEDUP_PER_JOB:g}·k up to the core count; for the linear model beyond "
            "two jobs, as near as memory bandwidth allows (no number set).\n")
        rows = []
        for row in jobs:
            target, met = jobs_target(row)
            rows.append([row["model"], row["n_jobs"], seconds(row["seconds"]),
                         _ratio(row["speedup"]), target, verdict(met)])
        parts.append(list_table(["model", "n_jobs", "time", "speed-up", "target",
                                 "met or missed"], rows))
    defaults = floor.get("defaults", {})
    if floor.get("chunks"):
        rows = floor["chunks"]
        parts.append(heading("Chunk and block sizes", "^"))
        parts.append(
            f"``influence_score`` on {rows[0]['rows']:,} rows, one thread, under each "
            "``working_memory`` (the chunk of rows a job holds, scikit-learn's "
            "configuration, in MB), as a ratio to the best setting of its row: the chunk size "
            "should not be the bottleneck, and the default should stay near the best (no "
            "number set).\n")
        parts.append(_pivot_sweep(rows, defaults.get("working_memory"), "MB"))
    if floor.get("blocks"):
        rows = floor["blocks"]
        parts.append(
            f"The same under each block size (``_chunking.CACHE_BLOCK_BYTES``, the rows and "
            f"temporaries one product works on, in KiB), on {rows[0]['rows']:,} rows.\n")
        parts.append(_pivot_sweep(rows, defaults.get("block_kib"), "KiB"))
    return "\n".join(parts)


def network_fit_target(row):
    """Issue 17's target for a network fit: at most 3x MLPRegressor with the same threads.

    Both thread settings count: with default threads MLPRegressor's own thread
    overhead can flatter the ratio, so the one-thread ratio must meet it too.
    """
    worst = max(row["ratio"], row.get("ratio_one_thread", row["ratio"]))
    return _at_most(worst, NETWORK_FIT_OVER_MLP)


def big_networks_section(targets):
    big = targets["big_networks"]
    cfg = big["config"]
    parts = [heading("Networks: fit, tangent, dof and Laplace against MLPRegressor", "~")]
    parts.append(
        "``CuriousRegressor(model='mlp').fit`` (training, then the exact tangent, the "
        "effective degrees of freedom and the Laplace factor) against scikit-learn's "
        "``MLPRegressor.fit`` with the same architecture (tanh), L-BFGS and "
        f"{cfg['max_iter']} iterations (``tol=0``: no early stop), alpha={cfg['alpha']:g}, "
        "on 3 features. The ratio and its target "
        f"(at most {NETWORK_FIT_OVER_MLP:g}×) hold at the same BLAS threads: both on their "
        "default threads (wall time), and both on one thread (CPU time); the target is met "
        "when both ratios meet it. Ours is broken down, on one thread, into training, the "
        "Gauss-Newton factorization (its route) and the tangent (its damping's eigenvalue "
        "estimates and preconditioned conjugate gradients, in Hessian-vector products). "
        f"Command: {_command(targets, 'big_networks')}.\n")
    rows = []
    for row in big["rows"]:
        target, met = network_fit_target(row)
        b = row["breakdown"]
        rows.append([str(tuple(row["network"])), f"{row['n_samples']:,}",
                     f"{row['n_params']:,}", seconds(row["peer_seconds"]),
                     seconds(row["seconds"]), _ratio(row["ratio"]), target, verdict(met),
                     _ratio(row["ratio_one_thread"]),
                     f"{seconds(b['train'])}; {seconds(b['laplace'])} ({b['route']}); "
                     f"{seconds(b['tangent'])} ({b['n_hvp']:.0f} products)"])
    parts.append(list_table(
        ["network", "n samples", "parameters", "MLPRegressor.fit", "ours", "ratio", "target",
         "met or missed", "ratio to one-thread MLPRegressor",
         "training; Gauss-Newton; tangent"], rows))
    return "\n".join(parts)


def threads_section(targets):
    threads = targets["threads"]
    cfg = threads["config"]
    parts = [heading("Default BLAS threads against one thread", "~")]
    parts.append(
        "Each call with the default BLAS threads "
        f"({' and '.join(str(t) for t in threads['default_blas_threads'])} in the BLAS "
        "libraries loaded) against the same call inside ``threadpool_limits(1)``, best of "
        f"{cfg['repeat']}, first on an otherwise idle machine, then with a second process "
        "running a one-thread BLAS loop (busy). Networks fit with L-BFGS for "
        f"{cfg['max_iter']} iterations. Target: our calls at most "
        f"{DEFAULT_OVER_ONE_THREAD:g}× their one-thread time, and better than "
        "``MLPRegressor`` (its ratio on the same row is beside ours). "
        f"Command: {_command(targets, 'threads')}.\n")
    by = {(r["condition"], r["what"]): r for r in threads["rows"]}
    rows, products = [], []
    for row in threads["rows"]:
        if row["what"].startswith("ours"):
            target, met = thread_target(row)
            peer = by.get((row["condition"], row["what"].replace("ours", "MLPRegressor", 1)))
            rows.append([row["condition"], row["what"], seconds(row["default_seconds"]),
                         seconds(row["one_thread_seconds"]), _ratio(row["ratio"]), target,
                         verdict(met), _ratio(peer["ratio"]) if peer else "",
                         ("yes" if row["ratio"] <= peer["ratio"] else "**no**") if peer else ""])
        elif not row["what"].startswith("MLPRegressor"):
            products.append([row["condition"], row["what"], seconds(row["default_seconds"]),
                             seconds(row["one_thread_seconds"]), _ratio(row["ratio"])])
    parts.append(list_table(["machine", "what", "default threads", "one thread", "ratio",
                             "target", "met or missed", "MLPRegressor's ratio",
                             "ours lower"], rows))
    if products:
        parts.append("Single products, to show where a second thread starts to pay (no "
                     "target):\n")
        parts.append(list_table(["machine", "what", "default threads", "one thread",
                                 "ratio"], products))
    return "\n".join(parts)


def machine_table(targets):
    rows = []
    for name in SCRIPTS:
        info = targets[name]["machine"]
        rows.append([SCRIPTS[name], f"{info['CPU']}, {info['cores']} cores", info["BLAS"],
                     info["load average at start"]
                     + (f" (at end: {targets[name]['load_average_at_end']})"
                        if "load_average_at_end" in targets[name] else ""),
                     f"{targets[name]['wall_seconds']:.0f} s"])
    return list_table(["script", "machine", "BLAS", "load average (1, 5, 15 min) at start",
                       "wall time"], rows)


def targets_section(targets):
    """The page's section for the targets part, from its results."""
    config = targets["report_config"]
    parts = [".. _benchmarks-targets:\n",
             heading("Against the targets: wide data, the floor, bigger networks, threads", "-")]
    parts.append(
        "Four scripts measure the package at the shapes users bring: linear models on "
        "wide and tall data, scoring large pools against the one pass over the pool that "
        "any method needs, networks of thousands of parameters, and BLAS threads on a "
        "busy machine. Each ratio is measured side by side in one process and is shown "
        "next to the target set for it; whether the target is met is computed from the "
        "numbers when this page is written. Each script ran in its own process, with "
        + ", ".join(f"``{v}``" for v in BLAS_THREAD_VARIABLES)
        + " unset (BLAS with the machine's default threads), in the "
        f"``{config}`` configuration (``python benchmarks/make_report.py"
        + ("" if config == "full" else f" --{config}") + " --only targets``).\n")
    parts.append(summary_table(targets))
    parts.append(linear_section(targets))
    parts.append(floor_section(targets))
    parts.append(big_networks_section(targets))
    parts.append(threads_section(targets))
    parts.append(heading("Machine of these runs", "~"))
    parts.append(machine_table(targets))
    return "\n".join(parts)
