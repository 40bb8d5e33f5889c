"""The command line, run as a user runs it: a subprocess on real CSV files."""

import csv
import subprocess
import sys

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from sklearn_curiosity import CuriousRegressor, influence_score
from sklearn_curiosity.__main__ import main

FEATURES = ["temperature", "pressure", "time"]


def start(*args, cwd):
    """Start the command line in the background: importing scikit-learn takes
    seconds, so the cases below run side by side."""
    return subprocess.Popen(
        [sys.executable, "-m", "sklearn_curiosity", *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
    )


def finish(process):
    stdout, stderr = process.communicate(timeout=300)
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
    return oracle.predict(X_pool), influence_score(oracle, X_pool)


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
    return m + s * oracle.predict(X_pool), s**4 * influence_score(oracle, X_pool)


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


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Every subprocess of this module, started at once and then awaited."""
    started = good_runs(tmp_path_factory)
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
                       "--hidden-layer-sizes", "--activation", "--seed"]:
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
