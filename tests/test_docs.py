"""The documentation builds, warnings as errors, running every gallery example."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

for module in ["sphinx", "sphinx_gallery", "numpydoc", "pydata_sphinx_theme", "matplotlib"]:
    pytest.importorskip(module, reason="the doc extra is not installed")

ROOT = Path(__file__).resolve().parent.parent


def test_docs_build_with_warnings_as_errors(tmp_path):
    if not (ROOT / "doc" / "conf.py").exists():
        pytest.skip("no doc/ folder beside the installed package")
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
    html = tmp_path / "html"
    # The README's documented command, with the copy's folders.
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
         str(tmp_path / "doc"), str(html)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]

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
