"""Sphinx configuration of the sklearn_curiosity documentation.

Build (warnings are errors, every gallery example runs), from the repository root:

    python -m sphinx -W --keep-going -b html doc doc/_build/html

The build needs no network: there is no intersphinx, and the theme's assets are
installed with it.
"""

import os
import re

import sklearn_curiosity

project = "sklearn_curiosity"
author = "The sklearn_curiosity developers"
copyright = "The sklearn_curiosity developers, BSD-3-Clause"
release = sklearn_curiosity.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
]

templates_path = ["_templates"]
exclude_patterns = ["_build"]
default_role = "literal"

# API reference: one generated page per public name (see api.rst).
autosummary_generate = True
autodoc_default_options = {"members": True}
# Methods are listed by autodoc's "members", not again by numpydoc.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# Figures of the user guide are drawn at build time from the code beside them.
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 96)]
plot_rcparams = {"figure.figsize": (7.0, 3.6), "figure.dpi": 96}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # An example that fails fails the build.
    "abort_on_example_error": True,
    # "Examples using X" under each API page, and links from the examples' code.
    "doc_module": ("sklearn_curiosity",),
    "backreferences_dir": os.path.join("gen_modules", "backreferences"),
    "reference_url": {"sklearn_curiosity": None},
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
}


# Methods the classes inherit from other libraries that their pages list:
# the scikit-learn estimator interface users call on every estimator.
INHERITED_PUBLIC_METHODS = {"score", "get_params", "set_params"}


def _skip_foreign_members(app, what, name, obj, skip, options):
    # The class template documents inherited members, so that a page lists
    # what users can call (our own base classes' methods, and the estimator
    # interface above). Members defined in other libraries are skipped
    # otherwise: set_fit_request & co. (scikit-learn's metadata routing) and
    # the plug-ins' scikit-activeml methods have docstrings that point into
    # those libraries' own documentation.
    if what != "class" or not (callable(obj) or isinstance(obj, property)):
        return None
    module = getattr(getattr(obj, "fget", obj), "__module__", None) or ""
    if module.split(".")[0] != "sklearn_curiosity" and name not in INHERITED_PUBLIC_METHODS:
        return True
    return None


_FOREIGN_REFERENCE = re.compile(r":ref:`([^`<]*?)\s*<[^`>]*>`|:ref:`([^`]*)`")


def _unlink_foreign_references(app, what, name, obj, options, lines):
    # An inherited scikit-learn docstring refers to labels of scikit-learn's
    # own user guide, which this build (offline: no intersphinx) cannot resolve.
    module = getattr(obj, "__module__", None) or ""
    if module.split(".")[0] == "sklearn_curiosity":
        return
    lines[:] = [
        _FOREIGN_REFERENCE.sub(lambda m: m.group(1) or f"``{m.group(2)}``", line)
        for line in lines
    ]


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
    app.connect("autodoc-process-docstring", _unlink_foreign_references)


html_theme = "pydata_sphinx_theme"
html_title = f"sklearn_curiosity {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []
html_show_sourcelink = False
