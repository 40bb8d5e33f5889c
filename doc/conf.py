"""Sphinx configuration of the sklearn_curiosity documentation.

Build (warnings are errors, every gallery example runs), from the repository root:

    python -m sphinx -W --keep-going -b html doc doc/_build/html

The build needs no network: there is no intersphinx, and the theme's assets are
installed with it.
"""

import os

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
autodoc_default_options = {"members": True, "inherited-members": False}
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


def _skip_metadata_routing(app, what, name, obj, skip, options):
    # set_fit_request & co. come from scikit-learn's metadata routing machinery,
    # with docstrings that point into scikit-learn's own documentation.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_routing)


html_theme = "pydata_sphinx_theme"
html_title = f"sklearn_curiosity {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []
html_show_sourcelink = False
