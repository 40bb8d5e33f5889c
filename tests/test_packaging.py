"""The built wheel: what it ships, and the metadata an index would show.

The wheel is built from a copy of the repository (stale ``build/`` folders of
an earlier build could otherwise leak files into it), with pip's isolated
build, which fetches the build backend named in pyproject.toml.
"""

import email
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    if not (ROOT / "pyproject.toml").exists():
        pytest.skip("no pyproject.toml beside the installed package")
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(
        ROOT, source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv*", "build", "dist", "*.egg-info", "_build", "generated",
            "auto_examples", "gen_modules", "__pycache__", ".pytest_cache", ".hypothesis",
        ),
    )
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(source),
         "-w", str(tmp / "dist")],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (path,) = (tmp / "dist").glob("sklearn_curiosity-*.whl")
    return path


def _metadata(wheel):
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(archive.read(name))


def test_wheel_ships_the_package_and_no_test_machinery(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "sklearn_curiosity/__init__.py" in names
    assert "sklearn_curiosity/skactiveml.py" in names
    assert not [n for n in names if Path(n).name == "conftest.py"]
    assert not [n for n in names if n.startswith(("tests/", "doc/", "benchmarks/", "examples/"))]
    top_level = {n.split("/")[0] for n in names}
    assert top_level == {"sklearn_curiosity", *(n for n in top_level if n.endswith(".dist-info"))}


def test_wheel_metadata_classifiers_and_urls(wheel):
    metadata = _metadata(wheel)
    classifiers = metadata.get_all("Classifier")
    for minor in (10, 11, 12, 13):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    assert [c for c in classifiers if c.startswith("Development Status :: ")]
    assert metadata["Requires-Python"] == ">=3.10"
    # Python-version classifiers and requires-python tell the same story.
    version = re.compile(r"Programming Language :: Python :: 3\.\d+")
    listed = [c for c in classifiers if version.fullmatch(c)]
    assert min(int(c.rsplit(".", 1)[1]) for c in listed) == 10
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL"))
    assert urls["Paper"] == "https://arxiv.org/abs/2411.15292"
    assert metadata["License-Expression"] == "BSD-3-Clause"


def _extra_requirements(metadata):
    """{extra: set of distribution names} from the wheel's Requires-Dist lines."""
    extras = {extra: set() for extra in metadata.get_all("Provides-Extra")}
    for requirement in metadata.get_all("Requires-Dist"):
        marker = re.search(r"""extra\s*==\s*["']([^"']+)["']""", requirement)
        if marker:
            name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()
            extras[marker.group(1)].add(name.replace("_", "-"))
    return extras


def test_wheel_extras_one_per_purpose(wheel):
    extras = _extra_requirements(_metadata(wheel))
    for extra in ["skactiveml", "modal", "dask", "progress", "plots", "doc", "test",
                  "benchmarks", "activelearning"]:
        assert extra in extras, extra
    assert extras["skactiveml"] == {"scikit-activeml"}
    assert extras["modal"] == {"modal-python"}
    # The old name stays an alias of the plug-ins and progress bars.
    assert extras["activelearning"] == extras["skactiveml"] | extras["modal"] | extras["progress"]
    # The API pages import sklearn_curiosity.skactiveml: the doc extra must
    # install scikit-activeml (tests/test_docs.py builds from it alone in CI).
    assert "scikit-activeml" in extras["doc"]
    # The suite builds the documentation: the test extra includes the doc extra.
    assert extras["doc"] <= extras["test"]
