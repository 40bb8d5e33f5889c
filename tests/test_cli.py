"""The command line, run as a user runs it: a subprocess on real CSV files."""

import csv
import os
import re
import resource
import signal
import subprocess
import sys

import numpy as np
import warnings

import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from sklearn_curiosity import CuriosityWarning, CuriousRegressor, _suggest, influence_score
from sklearn_curiosity.__main__ import main
from sklearn_curiosity._cli_messages import in_cli_terms

from _oracles import epistemic_curiosity

FEATURES = ["temperature", "pressure", "time"]


def start(*args, cwd, preexec_fn=None):
    """Start the command line in the background: importing scikit-learn takes
    seconds, so the cases below run side by side."""
    return subprocess.Popen(
        [sys.executable, "-m", "sklearn_curiosity", *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
        preexec_fn=preexec_fn, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


# The --out file's size limit in the "file-size limit" case: the ranked
# candidates take about 4 kB.
FILE_SIZE_LIMIT = 1000


def limit_file_size():
    """In the child: writes beyond FILE_SIZE_LIMIT bytes fail with EFBIG
    (SIGXFSZ ignored, as a shell's ulimit -f with the signal trapped)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


def finish(process):
    stdout, stderr = process.communicate(timeout=300)
    stdout = stdout if stdout is not None else ""
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def run(*args, cwd):
    return finish(start(*args, cwd=cwd))


def write_csv(path, header, rows):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv(path):
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    return rows[0], rows[1:]


def make_data():
    """Labelled and candidate rows on very different scales."""
    rng = np.random.default_rng(0)
    scale, offset = np.array([1.0, 10.0, 100.0]), np.array([20.0, 50.0, 1000.0])
    X = rng.normal(size=(25, 3)) * scale + offset
    y = (X - offset) / scale @ [1.0, -0.5, 0.3] + 0.3 * (X[:, 0] - 20) ** 2 + rng.normal(size=25)
    X_pool = rng.normal(size=(40, 3)) * 2 * scale + offset
    return X, y, X_pool


def write_files(directory):
    X, y, X_pool = make_data()
    labelled = write_csv(
        directory / "labelled.csv", [*FEATURES, "yield"], [[*x, t] for x, t in zip(X, y)]
    )
    # The candidates list the columns in another order and carry an empty target column.
    candidates = write_csv(
        directory / "candidates.csv",
        ["time", "yield", "temperature", "pressure"],
        [[x[2], "", x[0], x[1]] for x in X_pool],
    )
    return labelled, candidates


def oracle_curiosity(alpha, degree=1):
    """Curiosity of the candidates by a pipeline built here, independently of the CLI."""
    X, y, X_pool = make_data()
    steps = [StandardScaler()]
    if degree > 1:
        steps += [PolynomialFeatures(degree, include_bias=False), StandardScaler()]
    oracle = make_pipeline(*steps, CuriousRegressor(alpha=alpha)).fit(X, y)
    # suggest's default --uncertainty is the query strategies', "epistemic".
    return oracle.predict(X_pool), epistemic_curiosity(oracle, X_pool)


def mlp_oracle_curiosity(hidden_layer_sizes):
    """The MLP's predictions and curiosity, in the target's units, from a
    pipeline fitted here on the target rescaled by hand: with f = m + s f',
    g = s g' and sigma = s sigma', so the curiosity sigma^2 g^2 is s**4 times."""
    X, y, X_pool = make_data()
    m, s = y.mean(), y.std()
    network = CuriousRegressor(
        model="mlp", alpha=1.0, hidden_layer_sizes=hidden_layer_sizes, max_iter=2000,
        random_state=0,
    )
    oracle = make_pipeline(StandardScaler(), network).fit(X, (y - m) / s)
    return m + s * oracle.predict(X_pool), s**4 * epistemic_curiosity(oracle, X_pool)


def good_runs(tmp_path_factory):
    """The successful runs' subprocesses, by name: (directory, process)."""
    runs = {
        "leave-one-out": ["-n", 3, "--out", "ranked.csv"],
        "existing out": ["--out", "ranked.csv"],
        "mlp": ["--model", "mlp", "--hidden-layer-sizes", "8", "-n", 3, "--out", "ranked.csv"],
    }
    started = {}
    for name, options in runs.items():
        directory = tmp_path_factory.mktemp("cli")
        labelled, candidates = write_files(directory)
        if name == "existing out":
            (directory / "ranked.csv").write_text("keep me\n")
        started[name] = (directory, start(
            "suggest", labelled, candidates, "--target", "yield", *options, cwd=directory
        ))
    return started


def hostile_runs(tmp_path_factory):
    """A file-size limit under --out, and readers that close stdout at once."""
    started = {}
    directory = tmp_path_factory.mktemp("cli")
    labelled, candidates = write_files(directory)
    (directory / "ranked.csv").write_text("keep me\n")
    started["file-size limit"] = (directory, start(
        "suggest", labelled, candidates, "--target", "yield", "--out", "ranked.csv", "--force",
        cwd=directory, preexec_fn=limit_file_size,
    ))
    for name in CLOSED_STDOUT:
        directory = tmp_path_factory.mktemp("cli")
        labelled, candidates = write_files(directory)
        if name == "demo":
            args = ["demo"]
        else:
            args = ["suggest", labelled, candidates, "--target", "yield", "--out", "ranked.csv"]
        process = start(*args, cwd=directory)
        # As `head -0` would: the reader goes before the first line is printed.
        process.stdout.close()
        started[f"{name} into a closed pipe"] = (directory, process)
    return started


# The commands run with their stdout closed by the reader.
CLOSED_STDOUT = ["demo", "suggest"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Every subprocess of this module, started at once and then awaited."""
    started = {**good_runs(tmp_path_factory), **hostile_runs(tmp_path_factory)}
    for case in SUBPROCESS_CASES:
        directory = tmp_path_factory.mktemp("cli")
        started[case] = (directory, start(*spoiled_arguments(directory, case), cwd=directory))
    for options in BAD_MLP_OPTIONS:
        directory = tmp_path_factory.mktemp("cli")
        labelled, candidates = write_files(directory)
        started[options] = (directory, start(
            "suggest", labelled, candidates, "--target", "yield", *options, cwd=directory
        ))
    return {name: (directory, finish(process)) for name, (directory, process) in started.items()}


def check_ranking(directory, stdout, alpha=None, degree=1, oracle=None):
    """``ranked.csv`` and the printed top 3 match an independently built pipeline."""
    _, _, X_pool = make_data()
    prediction, curiosity = oracle if oracle is not None else oracle_curiosity(alpha, degree)
    expected_order = np.argsort(-curiosity)

    header, rows = read_csv(directory / "ranked.csv")
    assert header == ["rank", "row", *FEATURES, "predicted_yield", "curiosity"]
    table = np.array(rows, dtype=float)
    assert len(table) == len(X_pool)
    np.testing.assert_array_equal(table[:, 0], np.arange(1, len(X_pool) + 1))
    # Spreadsheet row numbers: the header is row 1, the first candidate row 2.
    np.testing.assert_array_equal(table[:, 1] - 2, expected_order)
    np.testing.assert_allclose(table[:, 2:5], X_pool[expected_order])
    np.testing.assert_allclose(table[:, 5], prediction[expected_order], rtol=1e-10)
    np.testing.assert_allclose(table[:, 6], curiosity[expected_order], rtol=1e-10)

    printed = [line.split() for line in stdout.splitlines()]
    first = next(i for i, line in enumerate(printed) if line[:2] == ["rank", "row"]) + 1
    top = printed[first:first + 3]
    assert [int(line[1]) for line in top] == list(expected_order[:3] + 2)
    np.testing.assert_allclose(
        [float(line[-1]) for line in top], curiosity[expected_order[:3]], rtol=1e-5
    )
    assert len(printed) == first + 3 + 2  # the top 3, the legend, the "Wrote" line
    assert "Wrote all 40 candidates" in stdout


def test_suggest_chooses_alpha_by_leave_one_out_and_ranks_as_an_oracle(results):
    directory, result = results["leave-one-out"]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""

    # Oracle of the alpha: refit Ridge without each row in turn, on the
    # standardized features, for every alpha of the grid.
    X, y, _ = make_data()
    Z = StandardScaler().fit_transform(X)
    alphas = np.logspace(-4, 4, 33)
    loo_error = [
        np.mean(
            [
                (Ridge(alpha=a).fit(np.delete(Z, i, 0), np.delete(y, i)).predict(Z[[i]])[0] - y[i])
                ** 2
                for i in range(len(y))
            ]
        )
        for a in alphas
    ]
    best = alphas[np.argmin(loo_error)]
    assert f"alpha = {best:.4g} (chosen by leave-one-out" in result.stdout
    # Oracle of the ranking: a pipeline built here with that alpha.
    check_ranking(directory, result.stdout, best, degree=1)


@pytest.mark.filterwarnings("ignore:The Hessian of the training objective is not positive")
def test_suggest_with_an_mlp_ranks_as_an_oracle(results):
    directory, result = results["mlp"]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "Fitted an MLP (hidden layers 8, tanh, seed 0)" in result.stdout
    assert "alpha = 1 (the MLP's default, on the standardized target" in result.stdout
    # A damped tangent is reported as a note above the table, not as a failure.
    stdout = "\n".join(
        line for line in result.stdout.splitlines() if not line.startswith("Note: ")
    )
    check_ranking(directory, stdout, oracle=mlp_oracle_curiosity((8,)))


def test_suggest_with_given_alpha_and_polynomial_terms(tmp_path, capsys):
    labelled, candidates = write_files(tmp_path)
    out = tmp_path / "ranked.csv"
    status = main([
        "suggest", str(labelled), str(candidates), "--target", "yield",
        "-n", "3", "--alpha", "2.5", "--degree", "2", "--out", str(out),
    ])
    stdout, stderr = capsys.readouterr()
    assert status == 0, stderr
    assert stderr == ""
    assert "alpha = 2.5 (given)" in stdout
    check_ranking(tmp_path, stdout, 2.5, degree=2)


def test_out_is_overwritten_only_with_force(results, capsys):
    directory, refused = results["existing out"]
    assert refused.returncode != 0
    assert refused.stdout == ""
    assert len(refused.stderr.splitlines()) == 1
    assert refused.stderr.strip().endswith("ranked.csv exists; pass --force to overwrite it.")
    out = directory / "ranked.csv"
    assert out.read_text() == "keep me\n"

    labelled, candidates = directory / "labelled.csv", directory / "candidates.csv"
    args = ["suggest", str(labelled), str(candidates), "--target", "yield", "--out", str(out)]
    assert main([*args, "--force"]) == 0
    assert len(read_csv(out)[1]) == len(make_data()[2])


def _drop_column(path, column):
    header, rows = read_csv(path)
    k = header.index(column)
    return [c for c in header if c != column], [r[:k] + r[k + 1:] for r in rows]


def _set_cell(path, row, column, value):
    header, rows = read_csv(path)
    rows[row][header.index(column)] = value
    return header, rows


# Each case: which file to spoil and how, and what the one line on stderr must say.
BAD_INPUTS = {
    "missing labelled file": ("labelled", None, ["missing.csv", "no such file"]),
    "missing candidates file": ("candidates", None, ["missing.csv", "no such file"]),
    "empty labelled file": ("labelled", lambda p: ([], []), ["labelled.csv is empty"]),
    "empty candidates file": ("candidates", lambda p: ([], []), ["candidates.csv is empty"]),
    "header only": (
        "candidates", lambda p: (read_csv(p)[0], []), ["candidates.csv", "no data rows"]
    ),
    "missing target column": (
        "labelled", lambda p: _drop_column(p, "yield"), ["no column 'yield'", "--target"]
    ),
    "non-numeric target": (
        "labelled", lambda p: _set_cell(p, 4, "yield", "high"),
        ["labelled.csv, row 6, column 'yield'", "'high' is not a number"],
    ),
    "candidates lack a column": (
        "candidates", lambda p: _drop_column(p, "pressure"), ["candidates.csv lacks 'pressure'"]
    ),
    "candidates have an extra column": (
        "candidates",
        lambda p: (read_csv(p)[0] + ["colour"], [r + ["1"] for r in read_csv(p)[1]]),
        ["candidates.csv has 'colour' that labelled.csv lacks"],
    ),
    "empty feature cell": (
        "labelled", lambda p: _set_cell(p, 2, "pressure", ""),
        ["labelled.csv, row 4, column 'pressure'", "empty cell"],
    ),
    "NaN feature cell": (
        "candidates", lambda p: _set_cell(p, 9, "time", "nan"),
        ["candidates.csv, row 11, column 'time'", "not a finite number"],
    ),
    "text in a feature cell": (
        "candidates", lambda p: _set_cell(p, 0, "temperature", "warm"),
        ["candidates.csv, row 2, column 'temperature'", "'warm' is not a number"],
    ),
    "ragged row": (
        "labelled", lambda p: (read_csv(p)[0], [r[:-1] if i == 3 else r for i, r in
                                                enumerate(read_csv(p)[1])]),
        ["labelled.csv, row 5: 3 cells, but the header has 4"],
    ),
    "too few labelled rows": (
        "labelled", lambda p: (read_csv(p)[0], read_csv(p)[1][:2]), ["at least 3 labelled rows"]
    ),
}


# The bad inputs the command line must survive, each run as a subprocess;
# the other cases run in-process (importing scikit-learn costs seconds a process).
SUBPROCESS_CASES = [
    "missing labelled file",
    "empty labelled file",
    "missing target column",
    "non-numeric target",
    "candidates lack a column",
    "NaN feature cell",
]


def spoiled_arguments(directory, case):
    """Write the files of a bad-input case; return the command line's arguments."""
    which, spoil, _ = BAD_INPUTS[case]
    paths = dict(zip(["labelled", "candidates"], write_files(directory)))
    if spoil is None:
        paths[which] = directory / "missing.csv"
    else:
        header, rows = spoil(paths[which])
        if header:
            write_csv(paths[which], header, rows)
        else:
            paths[which].write_text("")
    return ["suggest", str(paths["labelled"]), str(paths["candidates"]), "--target", "yield"]


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_gets_one_clear_line_and_a_failure_status(results, capsys, tmp_path, case):
    if case in SUBPROCESS_CASES:
        _, result = results[case]
        status, stdout, stderr = result.returncode, result.stdout, result.stderr
    else:
        status = main(spoiled_arguments(tmp_path, case))
        stdout, stderr = capsys.readouterr()
    assert status != 0
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for fragment in BAD_INPUTS[case][2]:
        assert fragment in lines[0]


# Bad values of the MLP's options, each run as a subprocess: (options, expected).
BAD_MLP_OPTIONS = {
    ("--model", "mlp", "--hidden-layer-sizes", "32,0"): "--hidden-layer-sizes: must be widths",
    ("--model", "mlp", "--hidden-layer-sizes", "wide"): "got 'wide'",
    ("--model", "mlp", "--activation", "softmax"): "--activation: invalid choice: 'softmax'",
    ("--model", "mlp", "--seed", "x"): "--seed: invalid int value: 'x'",
    ("--hidden-layer-sizes", "8"): "--hidden-layer-sizes: only with --model mlp",
}


@pytest.mark.parametrize("options", BAD_MLP_OPTIONS)
def test_bad_mlp_options_get_one_line(results, options):
    _, result = results[options]
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("python -m sklearn_curiosity suggest: error:")
    assert BAD_MLP_OPTIONS[options] in result.stderr


# Usage errors and --help are argparse's: checked in-process, without a subprocess each.
@pytest.mark.parametrize(
    "args, expected",
    [
        (["--alpha", "-1"], "--alpha: must be a finite number >= 0"),
        (["--alpha", "lots"], "--alpha: invalid number value: 'lots'"),
        (["--model", "forest"], "invalid choice: 'forest'"),
        (["-n", "0"], "must be at least 1"),
        (["--degree", "two"], "--degree: invalid integer value: 'two'"),
    ],
)
def test_bad_options_get_one_line(capsys, args, expected):
    with pytest.raises(SystemExit) as exit:
        main(["suggest", "labelled.csv", "candidates.csv", "--target", "yield", *args])
    assert exit.value.code == 2
    stderr = capsys.readouterr().err
    assert len(stderr.splitlines()) == 1
    assert expected in stderr


def test_missing_target_option_gets_one_line(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["suggest", "labelled.csv", "candidates.csv"])
    assert exit.value.code == 2
    stderr = capsys.readouterr().err
    assert len(stderr.splitlines()) == 1
    assert "required: --target" in stderr


@pytest.mark.parametrize("command", [[], ["suggest"], ["demo"]])
def test_every_command_has_help(capsys, command):
    with pytest.raises(SystemExit) as exit:
        main([*command, "--help"])
    assert exit.value.code == 0
    stdout = capsys.readouterr().out
    assert stdout.startswith("usage:")
    if command == ["suggest"]:
        for option in ["--target", "--alpha", "--model", "--degree", "--out", "--force", "-n",
                       "--hidden-layer-sizes", "--activation", "--seed", "--max-iter",
                       "--features", "--ignore", "--decimal"]:
            assert option in stdout
        assert "{linear,mlp}" in stdout


def test_console_script_is_declared():
    # Where the package is installed (as CI installs it), its metadata names
    # the command that pip puts on the PATH.
    from importlib.metadata import PackageNotFoundError, entry_points, version

    try:
        version("sklearn-curiosity")
    except PackageNotFoundError:
        pytest.skip("the package is not installed")
    (script,) = entry_points(group="console_scripts", name="sklearn-curiosity")
    assert script.load() is main


def test_a_write_past_the_file_size_limit_keeps_the_old_file(results):
    directory, result = results["file-size limit"]
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.strip().endswith(
        "Cannot write ranked.csv: File too large; ranked.csv was left as it was."
    )
    assert (directory / "ranked.csv").read_text() == "keep me\n"
    # No temporary file is left behind.
    assert sorted(os.listdir(directory)) == ["candidates.csv", "labelled.csv", "ranked.csv"]


@pytest.mark.parametrize("command", CLOSED_STDOUT)
def test_a_closed_stdout_ends_quietly(results, command):
    directory, result = results[f"{command} into a closed pipe"]
    # 141 = 128 + SIGPIPE, as a shell reports a command the signal ended.
    assert result.returncode == 141
    assert result.stderr == ""
    if command == "suggest":
        # The file is written before anything is printed.
        assert len(read_csv(directory / "ranked.csv")[1]) == len(make_data()[2])


@pytest.mark.parametrize("uncertainty", ["noise", "total"])
def test_uncertainty_option_ranks_as_its_oracle(tmp_path, capsys, uncertainty):
    write_files(tmp_path)
    out = tmp_path / "ranked.csv"
    status, stdout, stderr = run_in_process(
        capsys, tmp_path, "--alpha", "2.5", "-n", 3, "--out", out, "--uncertainty", uncertainty
    )
    assert status == 0, stderr
    X, y, X_pool = make_data()
    oracle = make_pipeline(StandardScaler(), CuriousRegressor(alpha=2.5)).fit(X, y)
    noise = influence_score(oracle, X_pool, uncertainty="noise")
    curiosity = noise if uncertainty == "noise" else noise + epistemic_curiosity(oracle, X_pool)
    check_ranking(tmp_path, stdout, oracle=(oracle.predict(X_pool), curiosity))
    assert {"noise": "over the label noise.", "total": "what the model does not know."}[
        uncertainty
    ] in stdout


def run_in_process(capsys, directory, *options, labelled=None, candidates=None):
    """``suggest`` on the files of ``directory``: (status, stdout, stderr)."""
    labelled = labelled or directory / "labelled.csv"
    candidates = candidates or directory / "candidates.csv"
    status = main([
        "suggest", str(labelled), str(candidates), "--target", "yield", *map(str, options)
    ])
    stdout, stderr = capsys.readouterr()
    return status, stdout, stderr


# One huge cell: (which file, data row, column, value, options, what the error must say).
OVERFLOWS = {
    "1e300 in a candidate": (
        "candidates", 4, "time", "1e300", [],
        ["candidates.csv, row 6", "its column 'time' is 1e+300"],
    ),
    "-1e200 in a candidate": (
        "candidates", 0, "pressure", "-1e200", [],
        ["candidates.csv, row 2", "its column 'pressure' is -1e+200"],
    ),
    "1e160 in a candidate at degree 2": (
        "candidates", 9, "temperature", "1e160", ["--degree", "2"],
        ["candidates.csv, row 11", "its column 'temperature' is 1e+160"],
    ),
    "1e300 in a labelled feature": (
        "labelled", 2, "pressure", "1e300", [],
        ["labelled.csv, row 4, column 'pressure': 1e+300 is too large"],
    ),
    "-1e160 in a labelled target": (
        "labelled", 7, "yield", "-1e160", [],
        ["labelled.csv, row 9, column 'yield': -1e+160 is too large"],
    ),
}


@pytest.mark.parametrize("case", OVERFLOWS)
def test_an_overflowing_cell_is_blamed_on_its_file_row_and_column(tmp_path, capsys, case):
    which, row, column, value, options, fragments = OVERFLOWS[case]
    paths = dict(zip(["labelled", "candidates"], write_files(tmp_path)))
    write_csv(paths[which], *_set_cell(paths[which], row, column, value))
    status, stdout, stderr = run_in_process(capsys, tmp_path, *options)
    assert status == 1
    assert stdout == ""
    assert len(stderr.splitlines()) == 1, stderr
    for fragment in fragments:
        assert fragment in stderr
    if which == "candidates":
        # Not blamed on the labelled file, nor on fitting.
        assert "labelled.csv" not in stderr
        assert "Cannot fit" not in stderr


def _labelled_rows(directory, transform):
    """Rewrite labelled.csv's rows through ``transform(header, rows)``."""
    path = directory / "labelled.csv"
    write_csv(path, *transform(*read_csv(path)))


def test_a_constant_target_gets_no_ranking(tmp_path, capsys):
    write_files(tmp_path)
    _labelled_rows(tmp_path, lambda h, rows: (h, [[*r[:3], "7.5"] for r in rows]))
    for model in ["linear", "mlp"]:
        status, stdout, stderr = run_in_process(capsys, tmp_path, "--model", model)
        assert status == 1
        assert "label these first" not in stdout + stderr
        assert "No ranking: the target 'yield' is 7.5 in every labelled row" in stderr


def test_constant_features_get_no_ranking(tmp_path, capsys):
    write_files(tmp_path)
    _labelled_rows(tmp_path, lambda h, rows: (h, [[*rows[0][:3], r[3]] for r in rows]))
    status, stdout, stderr = run_in_process(capsys, tmp_path)
    assert status == 1
    assert "No ranking: every feature ('temperature', 'pressure', 'time') has one value" in stderr


def test_all_zero_curiosity_gets_no_ranking(tmp_path, capsys, monkeypatch):
    write_files(tmp_path)
    # However they arise, scores that are all 0 rank nothing.
    monkeypatch.setattr(_suggest, "influence_score", lambda reg, X, **kwargs: np.zeros(len(X)))
    status, stdout, stderr = run_in_process(capsys, tmp_path)
    assert status == 1
    assert "No ranking: every candidate's curiosity is 0" in stderr


def hat_matrix_trace(Z, alpha):
    """Effective dof of ridge with an intercept: the trace of its hat matrix."""
    Zc = Z - Z.mean(axis=0)
    hat = Zc @ np.linalg.solve(Zc.T @ Zc + alpha * np.eye(Z.shape[1]), Zc.T)
    return np.trace(hat) + 1


def test_a_model_that_interpolates_its_labels_gets_no_ranking(tmp_path, capsys):
    write_files(tmp_path)
    _labelled_rows(tmp_path, lambda h, rows: (h, rows[:4]))
    X = make_data()[0][:4]
    assert hat_matrix_trace(StandardScaler().fit_transform(X), 1e-12) == pytest.approx(4)
    status, stdout, stderr = run_in_process(capsys, tmp_path, "--alpha", "1e-12")
    assert status == 1
    assert "No ranking: the model has as many effective degrees of freedom (4) as labelled " \
        "rows (4)" in stderr


def test_less_than_one_residual_is_a_caution(tmp_path, capsys):
    write_files(tmp_path)
    _labelled_rows(tmp_path, lambda h, rows: (h, rows[:8]))
    X = make_data()[0][:8]
    Z = StandardScaler().fit_transform(
        PolynomialFeatures(2, include_bias=False).fit_transform(StandardScaler().fit_transform(X))
    )
    # The oracle's alpha with between a thousandth and one residual degree of freedom.
    alpha = next(a for a in np.logspace(-3, 1, 9) if 0.01 < 8 - hat_matrix_trace(Z, a) < 0.9)
    status, stdout, stderr = run_in_process(capsys, tmp_path, "--alpha", alpha, "--degree", 2)
    assert status == 0, stderr
    assert f"effective dof {hat_matrix_trace(Z, alpha):.3g}." in stdout
    assert "Caution: the model uses" in stdout
    assert "label these first" not in stdout


def test_alpha_at_the_edge_of_the_grid_is_a_caution(tmp_path, capsys):
    write_files(tmp_path)
    # A target unrelated to the features: leave-one-out wants the largest alpha.
    noise = np.random.default_rng(3).normal(size=25)
    _labelled_rows(tmp_path, lambda h, rows: (h, [[*r[:3], y] for r, y in zip(rows, noise)]))
    status, stdout, stderr = run_in_process(capsys, tmp_path)
    assert status == 0, stderr
    assert "alpha = 1e+04 (chosen by leave-one-out" in stdout
    assert "Caution: leave-one-out chose alpha = 10000, the largest value of its grid" in stdout
    assert "label these first" not in stdout
    assert "--alpha" in stdout


def test_a_library_curiosity_warning_is_a_caution(tmp_path, capsys, monkeypatch):
    # A CuriosityWarning for a condition the command line does not check
    # itself weakens the ranking: a caution in the CLI's terms, not an error.
    write_files(tmp_path)
    choose = _suggest._leave_one_out_alpha

    def warning_choice(X, y):
        warnings.warn("Some new doubt about these scores. Raise alpha.", CuriosityWarning)
        return choose(X, y)

    monkeypatch.setattr(_suggest, "_leave_one_out_alpha", warning_choice)
    status, stdout, stderr = run_in_process(capsys, tmp_path)
    assert status == 0, stderr
    assert "Caution: Some new doubt about these scores. Raise --alpha." in stdout
    assert "label these first" not in stdout


# Runs that end in a message from the library or the command line, to check
# that their advice names options the command line has.
ADVISED_RUNS = {
    "unconverged network": (
        ["--model", "mlp", "--hidden-layer-sizes", "2", "--max-iter", "1"], "--max-iter"
    ),
    "singular Hessian": (["--alpha", "0", "--degree", "4"], "--alpha"),
    "interpolation": (["--alpha", "1e-12"], "--alpha"),
    "network note": (["--model", "mlp", "--hidden-layer-sizes", "8", "-n", "1"], None),
    "overflow": (["--degree", "2"], None),
}
# Estimator parameters that the command line does not have under that name.
ESTIMATOR_PARAMETERS = re.compile(
    r"\b(max_iter|random_state|hidden_layer_sizes|tangent_options|tangent_solver|"
    r"learning_rate_init|batch_size|warm_start|fit_intercept|sample_weight|n_jobs|"
    r"regularizer|differentiation)\b"
)


def suggest_help(capsys):
    with pytest.raises(SystemExit):
        main(["suggest", "--help"])
    return capsys.readouterr().out


def assert_advice_names_options(text, help_text):
    options = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", text))
    for option in options:
        assert re.search(rf"(?<![\w-]){option}(?![\w-])", help_text), (option, text)
    assert not ESTIMATOR_PARAMETERS.search(text), text


@pytest.mark.parametrize("case", ADVISED_RUNS)
def test_every_piece_of_advice_names_an_option_of_the_command_line(tmp_path, capsys, case):
    help_text = suggest_help(capsys)
    write_files(tmp_path)
    if case == "interpolation":
        _labelled_rows(tmp_path, lambda h, rows: (h, rows[:4]))
    if case == "overflow":
        write_csv(tmp_path / "candidates.csv",
                  *_set_cell(tmp_path / "candidates.csv", 3, "time", "1e300"))
    options, advised = ADVISED_RUNS[case]
    status, stdout, stderr = run_in_process(capsys, tmp_path, *options)
    if advised is not None:
        assert advised in stderr
    assert_advice_names_options(stdout + stderr, help_text)


def _library_messages():
    """The library's own warnings that the command line can meet, raised for real."""
    from sklearn_curiosity._laplace import _warn_damped
    from sklearn_curiosity.scores import estimate_noise_variance

    X, y, _ = make_data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimate_noise_variance(1.0, 3.0, 3.0)
        _warn_damped(0.1)
        CuriousRegressor(
            model="mlp", hidden_layer_sizes=(3,), max_iter=3, tangent_solver="cg",
            tangent_options={"maxiter": 1}, random_state=0,
        ).fit(StandardScaler().fit_transform(X), y)
    return [str(w.message) for w in caught]


def test_the_library_messages_are_put_in_the_command_line_s_terms(capsys):
    help_text = suggest_help(capsys)
    messages = _library_messages()
    assert any("max_iter" in m for m in messages)
    assert any("tangent_options" in m for m in messages)
    for message in messages:
        translated = in_cli_terms(message)
        assert translated
        assert_advice_names_options(translated, help_text)
    assert "raise --max-iter" in in_cli_terms(
        next(m for m in messages if "max_iter" in m)
    )


def test_max_iter_reaches_the_network(tmp_path, capsys):
    write_files(tmp_path)
    status, stdout, stderr = run_in_process(
        capsys, tmp_path, "--model", "mlp", "--hidden-layer-sizes", "2", "--max-iter", "1"
    )
    assert status == 1
    assert "L-BFGS did not converge in --max-iter 1 iterations; raise --max-iter" in stderr
    with pytest.raises(SystemExit) as exit:
        run_in_process(capsys, tmp_path, "--max-iter", "5")
    assert exit.value.code == 2
    assert "--max-iter: only with --model mlp" in capsys.readouterr().err
