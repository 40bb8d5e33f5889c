"""``suggest``'s files: the inputs are never lost, --out is written whole or not
at all, and spreadsheets' habits (delimiters, decimal commas, ID columns) are
read as meant. In-process; the subprocess cases are in test_cli.py."""

import csv
import errno
import os

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_curiosity
from sklearn_curiosity import CuriousRegressor
from sklearn_curiosity import _suggest
from sklearn_curiosity.__main__ import main

from _oracles import epistemic_curiosity
from test_cli import check_ranking, make_data, read_csv, write_csv, write_files


def suggest(capsys, labelled, candidates, *options):
    """Run ``suggest`` in-process: (status, stdout, stderr)."""
    argv = ["suggest", labelled, candidates, "--target", "yield", *options]
    status = main([str(arg) for arg in argv])
    stdout, stderr = capsys.readouterr()
    return status, stdout, stderr


def snapshot(directory):
    """Every file of a folder with its bytes."""
    return {
        name: (directory / name).read_bytes()
        for name in sorted(os.listdir(directory))
        if (directory / name).is_file()
    }


def assert_one_line_error(status, stdout, stderr, *fragments):
    assert status == 1
    assert stdout == ""
    assert len(stderr.splitlines()) == 1, stderr
    for fragment in fragments:
        assert fragment in stderr


# --out naming an input, by every spelling and link: (how to spell it, which input).
OUT_ALIASES = {
    "same name": lambda d: (str(d / "labelled.csv"), "labelled.csv"),
    "relative": lambda d: ("labelled.csv", "labelled.csv"),
    "dot slash": lambda d: ("./candidates.csv", "candidates.csv"),
    "via a folder": lambda d: (str(d / "sub" / ".." / "candidates.csv"), "candidates.csv"),
    "symbolic link": lambda d: (_symlink(d, "candidates.csv"), "candidates.csv"),
    "hard link": lambda d: (_hardlink(d, "labelled.csv"), "labelled.csv"),
}


def _symlink(directory, name):
    os.symlink(directory / name, directory / "link.csv")
    return str(directory / "link.csv")


def _hardlink(directory, name):
    os.link(directory / name, directory / "twin.csv")
    return str(directory / "twin.csv")


@pytest.mark.parametrize("force", [[], ["--force"]])
@pytest.mark.parametrize("alias", OUT_ALIASES)
def test_out_never_names_an_input(tmp_path, capsys, monkeypatch, alias, force):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    labelled, candidates = write_files(tmp_path)
    out, victim = OUT_ALIASES[alias](tmp_path)
    before = snapshot(tmp_path)
    status, stdout, stderr = suggest(capsys, labelled, candidates, "--out", out, *force)
    assert_one_line_error(status, stdout, stderr, "is the input file", victim)
    assert snapshot(tmp_path) == before


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path, capsys, monkeypatch
):
    labelled, candidates = write_files(tmp_path)
    out = tmp_path / "ranked.csv"
    out.write_text("keep me\n")

    def disk_full(descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    # The disk fills up as the file is flushed to it.
    monkeypatch.setattr(os, "fsync", disk_full)
    status, stdout, stderr = suggest(capsys, labelled, candidates, "--out", out, "--force")
    assert_one_line_error(
        status, stdout, stderr, "No space left on device", "ranked.csv was left as it was"
    )
    assert out.read_text() == "keep me\n"
    assert sorted(os.listdir(tmp_path)) == ["candidates.csv", "labelled.csv", "ranked.csv"]

    # A new file that could not be written is not created at all.
    status, stdout, stderr = suggest(capsys, labelled, candidates, "--out", tmp_path / "new.csv")
    assert_one_line_error(status, stdout, stderr, "new.csv was not created")
    assert sorted(os.listdir(tmp_path)) == ["candidates.csv", "labelled.csv", "ranked.csv"]


def test_a_file_created_during_the_fit_is_not_overwritten(tmp_path, capsys, monkeypatch):
    labelled, candidates = write_files(tmp_path)
    out = tmp_path / "ranked.csv"
    fit_and_rank = _suggest.fit_and_rank

    def slow_fit(*args, **kwargs):
        # Someone saves a file of that name while the model fits.
        out.write_text("written meanwhile\n")
        return fit_and_rank(*args, **kwargs)

    monkeypatch.setattr(_suggest, "fit_and_rank", slow_fit)
    status, stdout, stderr = suggest(capsys, labelled, candidates, "--out", out)
    assert_one_line_error(
        status, stdout, stderr, "ranked.csv was created while the model was fitting", "--force"
    )
    assert out.read_text() == "written meanwhile\n"
    assert sorted(os.listdir(tmp_path)) == ["candidates.csv", "labelled.csv", "ranked.csv"]

    # With --force it is replaced, and the new file has every candidate.
    status, stdout, stderr = suggest(capsys, labelled, candidates, "--out", out, "--force")
    assert status == 0, stderr
    assert len(read_csv(out)[1]) == len(make_data()[2])


def test_out_keeps_the_permissions_of_the_file_it_replaces(tmp_path, capsys):
    labelled, candidates = write_files(tmp_path)
    out = tmp_path / "ranked.csv"
    out.write_text("old\n")
    os.chmod(out, 0o640)
    assert suggest(capsys, labelled, candidates, "--out", out, "--force")[0] == 0
    assert os.stat(out).st_mode & 0o777 == 0o640
    # A new file gets the usual permissions (0o666 less the umask), not mkstemp's 0o600.
    umask = os.umask(0o022)
    try:
        assert suggest(capsys, labelled, candidates, "--out", tmp_path / "new.csv")[0] == 0
    finally:
        os.umask(umask)
    assert os.stat(tmp_path / "new.csv").st_mode & 0o777 == 0o644


def _rewrite(path, delimiter, decimal_comma=False):
    header, rows = read_csv(path)
    if decimal_comma:
        rows = [[cell.replace(".", ",") for cell in row] for row in rows]
    with open(path, "w", newline="") as file:
        csv.writer(file, delimiter=delimiter).writerows([header, *rows])


@pytest.mark.parametrize(
    "delimiter, decimal_comma", [(";", True), (";", False), ("\t", False), ("|", True)]
)
def test_delimiter_and_decimal_comma_give_the_comma_file_ranking(
    tmp_path, capsys, delimiter, decimal_comma
):
    labelled, candidates = write_files(tmp_path)
    for path in (labelled, candidates):
        _rewrite(path, delimiter, decimal_comma)
    decimal = ["--decimal", ","] if decimal_comma else []
    status, stdout, stderr = suggest(
        capsys, labelled, candidates, "-n", "3", "--alpha", "2.5", *decimal,
        "--out", tmp_path / "ranked.csv",
    )
    assert status == 0, stderr
    assert "Read labelled.csv: cells separated by" in stdout
    # The oracle: a pipeline fitted here on the numbers themselves.
    stdout = "\n".join(line for line in stdout.splitlines() if not line.startswith("Read "))
    check_ranking(tmp_path, stdout, 2.5)


def test_decimal_commas_are_named_when_not_asked_for(tmp_path, capsys):
    labelled, candidates = write_files(tmp_path)
    _rewrite(labelled, ";", decimal_comma=True)
    status, stdout, stderr = suggest(capsys, labelled, candidates)
    assert_one_line_error(
        status, stdout, stderr, "labelled.csv, row 2, column 'yield'",
        "decimal comma", "--decimal ,",
    )
    # A point where the comma is the decimal mark may be a thousands separator: refused.
    status, stdout, stderr = suggest(capsys, labelled, candidates, "--decimal", ",")
    assert_one_line_error(
        status, stdout, stderr, "candidates.csv, row 2, column 'temperature'", "has a point"
    )


def test_decimal_commas_in_a_comma_file_get_advice(tmp_path, capsys):
    labelled, candidates = write_files(tmp_path)
    header, rows = read_csv(labelled)
    with open(labelled, "w") as file:
        file.write(",".join(header) + "\n")
        file.writelines(",".join(cell.replace(".", ",") for cell in row) + "\n" for row in rows)
    status, stdout, stderr = suggest(capsys, labelled, candidates)
    assert_one_line_error(
        status, stdout, stderr, "labelled.csv, row 2:", "semicolons", "--decimal ,"
    )


def _with_id(path, prefix):
    header, rows = read_csv(path)
    write_csv(path, ["id", *header], [[f"{prefix}{i}", *row] for i, row in enumerate(rows)])


def test_ignore_leaves_an_id_column_out_and_shows_it(tmp_path, capsys):
    labelled, candidates = write_files(tmp_path)
    _with_id(labelled, "L")
    _with_id(candidates, "C")
    out = tmp_path / "ranked.csv"
    status, stdout, stderr = suggest(
        capsys, labelled, candidates, "--alpha", "2.5", "--ignore", "id", "--out", out,
    )
    assert status == 0, stderr
    prediction, curiosity = _oracle(["temperature", "pressure", "time"], 2.5)
    order = np.argsort(-curiosity)
    header, rows = read_csv(out)
    assert header == ["rank", "row", "id", "temperature", "pressure", "time",
                      "predicted_yield", "curiosity"]
    assert [row[2] for row in rows] == [f"C{i}" for i in order]
    np.testing.assert_allclose([float(row[-1]) for row in rows], curiosity[order], rtol=1e-10)
    first = stdout.splitlines()[5].split()
    assert first[:3] == ["1", str(order[0] + 2), f"C{order[0]}"]


def _oracle(columns, alpha):
    X, y, X_pool = make_data()
    index = [["temperature", "pressure", "time"].index(c) for c in columns]
    pipe = make_pipeline(StandardScaler(), CuriousRegressor(alpha=alpha))
    pipe.fit(X[:, index], y)
    return pipe.predict(X_pool[:, index]), epistemic_curiosity(pipe, X_pool[:, index])


def test_features_chooses_the_columns(tmp_path, capsys):
    labelled, candidates = write_files(tmp_path)
    out = tmp_path / "ranked.csv"
    status, stdout, stderr = suggest(
        capsys, labelled, candidates, "--alpha", "2.5", "--out", out,
        "--features", "time", "temperature",
    )
    assert status == 0, stderr
    assert "from 2 feature(s)" in stdout
    prediction, curiosity = _oracle(["time", "temperature"], 2.5)
    order = np.argsort(-curiosity)
    header, rows = read_csv(out)
    # The candidates' other column is shown as it is, then the features.
    assert header == ["rank", "row", "pressure", "time", "temperature", "predicted_yield",
                      "curiosity"]
    table = np.array(rows, dtype=float)
    np.testing.assert_array_equal(table[:, 1] - 2, order)
    np.testing.assert_allclose(table[:, 5], prediction[order], rtol=1e-10)
    np.testing.assert_allclose(table[:, 6], curiosity[order], rtol=1e-10)


@pytest.mark.parametrize(
    "options, fragments",
    [
        (["--features", "time", "colour"],
         ["--features names 'colour'", "'temperature', 'pressure', 'time', 'yield'"]),
        (["--ignore", "shade"], ["--ignore names 'shade'", "candidates.csv's columns"]),
        (["--ignore", "time", "--features", "time", "pressure"],
         ["--features and --ignore both name 'time'"]),
        (["--features", "yield", "time"], ["--features names the target 'yield'"]),
        (["--ignore", "yield"], ["--ignore names the target 'yield'"]),
        (["--ignore", "temperature", "--ignore", "pressure", "--ignore", "time"],
         ["no feature columns besides the target 'yield' and the --ignore columns"]),
        ([], ["candidates.csv has 'colour' that labelled.csv lacks", "--ignore COLUMN"]),
    ],
)
def test_column_choices_that_cannot_be_met_get_one_line(tmp_path, capsys, options, fragments):
    labelled, candidates = write_files(tmp_path)
    header, rows = read_csv(candidates)
    write_csv(candidates, [*header, "colour"], [[*row, "red"] for row in rows])
    if options and "colour" not in options:
        # With the extra column left out, only the option's mistake remains.
        options = [*options, "--ignore", "colour"]
    status, stdout, stderr = suggest(capsys, labelled, candidates, *options)
    assert_one_line_error(status, stdout, stderr, *fragments)


def test_version(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out.split()[-1] == sklearn_curiosity.__version__
