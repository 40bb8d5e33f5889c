"""The documentation builds, warnings as errors, running every gallery example.

The build is the README's command. In CI, ``.ci/run`` runs that command in a
fresh environment that has the ``doc`` extra alone, and sets
``SKLEARN_CURIOSITY_BUILT_DOCS`` to its output: the checks below then read
those pages instead of building again (the gallery runs once per CI run).
Without the variable the test builds a copy of the documentation itself.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The sections of doc/theory.rst that docstrings and pages refer to.
THEORY_LABELS = [
    "theory-objective", "theory-tangent", "theory-influence", "theory-curiosity",
    "theory-epistemic", "theory-laplace", "theory-singular-directions", "theory-solvers",
    "theory-dual", "theory-alpha", "theory-several", "theory-hierarchical", "theory-greedy",
    "theory-precision", "theory-from-estimator",
]

needs_repository = pytest.mark.skipif(
    not (ROOT / "doc" / "conf.py").exists(), reason="no doc/ folder beside the installed package"
)


def _readme_doc_command():
    """The README's documentation command: the code block under "## Documentation"."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Documentation", 1)[1]
    return re.search(r"```bash\n(.*?)\n```", section, re.DOTALL).group(1).strip()


def _build(tmp_path):
    """Build a copy of the documentation with the README's sphinx command."""
    for module in ["sphinx", "sphinx_gallery", "numpydoc", "pydata_sphinx_theme", "matplotlib"]:
        pytest.importorskip(module, reason="the doc extra is not installed")
    # Build a copy: the gallery and the API pages are generated into the
    # source folder, which stays clean (and stale pages of an earlier build
    # cannot hide or cause a problem). Pages may include files from the
    # folders beside doc/, so those are copied too.
    ignore = shutil.ignore_patterns("_build", "generated", "auto_examples", "gen_modules",
                                    "sg_execution_times.rst", "__pycache__")
    for folder in ["doc", "examples", "benchmarks"]:
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, tmp_path / folder, ignore=ignore)
    for path in ROOT.glob("*.md"):
        shutil.copy(path, tmp_path)
    # The README's command after its "pip install ... &&", run by this
    # interpreter, in the copy.
    sphinx = shlex.split(_readme_doc_command().split("&&")[-1])
    assert sphinx[:3] == ["python", "-m", "sphinx"], sphinx
    result = subprocess.run(
        [sys.executable, *sphinx[1:]],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return tmp_path / sphinx[-1]


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    built = os.environ.get("SKLEARN_CURIOSITY_BUILT_DOCS")
    if built:
        # .ci/run built the pages from the doc extra alone, warnings as errors.
        assert (Path(built) / "index.html").exists(), built
        return Path(built)
    if not (ROOT / "doc" / "conf.py").exists():
        pytest.skip("no doc/ folder beside the installed package")
    return _build(tmp_path_factory.mktemp("docs"))


def test_docs_build_with_warnings_as_errors(html):
    # Every gallery example ran and has its page, with its figures.
    examples = sorted(p.stem for p in (ROOT / "examples").glob("plot_*.py"))
    assert examples
    for name in examples:
        assert (html / "auto_examples" / f"{name}.html").exists(), name
        assert list((html / "_images").glob(f"sphx_glr_{name}_0*.png")), name
    # Every public name has its API page.
    import sklearn_curiosity

    for name in sklearn_curiosity.__all__:
        if name != "__version__":
            assert (html / "generated" / f"sklearn_curiosity.{name}.html").exists(), name
    # The user guide's figures were drawn.
    assert list((html / "_images").glob("user_guide-*.png"))


@pytest.mark.parametrize("page", [
    "sklearn_curiosity.CuriousRegressor",
    "sklearn_curiosity.CuriousRegressorCV",
    "sklearn_curiosity.HierarchicalCuriousRegressor",
    "sklearn_curiosity.skactiveml.CuriousProbabilisticRegressor",
])
def test_api_pages_list_inherited_estimator_methods(html, page):
    text = (html / "generated" / f"{page}.html").read_text(encoding="utf-8")
    for method in ["fit", "score", "get_params", "set_params"]:
        assert f'id="{page}.{method}"' in text, method
    # scikit-learn's metadata-routing methods are not part of our pages.
    assert f'id="{page}.set_fit_request"' not in text


def test_api_page_of_a_subclass_lists_the_methods_it_inherits(html):
    text = (html / "generated" / "sklearn_curiosity.CuriousRegressorCV.html").read_text(
        encoding="utf-8")
    for method in ["predict", "influence_score", "regularity_sensitivity"]:
        assert f'id="sklearn_curiosity.CuriousRegressorCV.{method}"' in text, method


def test_theory_page_is_built_with_its_sections(html):
    text = (html / "theory.html").read_text(encoding="utf-8")
    for label in THEORY_LABELS:
        assert f'id="{label}"' in text, label
    assert "arXiv:2411.15292" in text
    assert 'class="math' in text
    assert 'href="theory.html"' in (html / "index.html").read_text(encoding="utf-8")


@needs_repository
def test_readme_doc_command_is_what_ci_runs_from_the_doc_extra():
    command = _readme_doc_command()
    assert command.startswith('pip install ".[doc]" && python -m sphinx -W ')
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in ci.splitlines()]
    assert command in lines, "the README's doc command is not in .ci/run verbatim"
    # ... run in a venv of its own, activated, so that pip and python are its.
    assert any(line.startswith("python3 -m venv") and "activate" in line for line in lines)


def _repository_text_files():
    """Files whose text becomes documentation: pages, README, docstrings, examples."""
    yield ROOT / "README.md"
    for folder, pattern in [("doc", "*.rst"), ("doc", "*.py"), ("sklearn_curiosity", "*.py"),
                            ("examples", "*.py"), ("examples", "*.rst"), ("benchmarks", "*.py")]:
        for path in (ROOT / folder).rglob(pattern):
            if not {"_build", "generated", "auto_examples", "gen_modules"} & set(path.parts):
                yield path


@needs_repository
def test_no_reference_to_a_file_outside_the_repository():
    # Every file name the documentation mentions (a .md, .rst or .txt file)
    # must be a file of the repository, or one it generates.
    present = set()
    for folder, subfolders, files in os.walk(ROOT):
        # Environments, caches and build outputs are not the repository.
        subfolders[:] = [d for d in subfolders
                         if not d.startswith((".", "_build", "__")) and d not in ("build", "dist")]
        present.update(files)
    generated = {"sg_execution_times.rst", "benchmarks.rst"}
    mentioned = {}
    for path in _repository_text_files():
        for name in re.findall(r"[\w./-]*\w\.(?:md|rst|txt)\b",
                               path.read_text(encoding="utf-8")):
            mentioned.setdefault(Path(name).name, set()).add(str(path.relative_to(ROOT)))
    missing = {name: sorted(where) for name, where in mentioned.items()
               if name not in present | generated}
    assert not missing, f"files mentioned but not in the repository: {missing}"
