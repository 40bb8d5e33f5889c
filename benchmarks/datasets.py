"""Real regression datasets that load offline, from files installed with packages.

scikit-learn ships ``diabetes``; statsmodels ships the others as CSV files
inside its wheel (``statsmodels.datasets``). Nothing is fetched at run time.
Each loader returns ``(X, y)`` as float arrays; :data:`DATASETS` maps a name to
``(loader, source, description)``.
"""

import numpy as np

from _common import require


def _statsmodels(name):
    return require("statsmodels.datasets." + name).load_pandas().data


def diabetes():
    from sklearn.datasets import load_diabetes

    return load_diabetes(return_X_y=True)


def _split(frame, target, features=None, log_target=False):
    frame = frame.dropna()
    features = features or [c for c in frame.columns if c != target]
    y = frame[target].to_numpy(float)
    return frame[features].to_numpy(float), np.log(y) if log_target else y


def fair():
    return _split(_statsmodels("fair"), "affairs")


def randhie():
    return _split(_statsmodels("randhie"), "mdvis")


def star98():
    data = _statsmodels("star98")
    data = data.assign(frac_above=data["NABOVE"] / (data["NABOVE"] + data["NBELOW"]))
    return _split(data.drop(columns=["NABOVE", "NBELOW"]), "frac_above")


def grunfeld():
    return _split(_statsmodels("grunfeld"), "invest", ["value", "capital", "year"],
                  log_target=True)


def anes96():
    data = _statsmodels("anes96")
    return _split(data, "selfLR", ["popul", "TVnews", "ClinLR", "DoleLR", "PID", "age",
                                   "educ", "income"])


def engel():
    return _split(_statsmodels("engel"), "foodexp")


def macrodata():
    data = _statsmodels("macrodata")
    features = ["realgdp", "realcons", "realgovt", "realdpi", "cpi", "m1", "tbilrate",
                "unemp", "pop", "infl"]
    return _split(data, "realinv", features, log_target=True)


DATASETS = {
    "diabetes": (diabetes, "scikit-learn", "disease progression (442 x 10)"),
    "fair": (fair, "statsmodels", "extramarital affairs time (6366 x 8)"),
    "randhie": (randhie, "statsmodels", "RAND health: doctor visits (20190 x 9)"),
    "star98": (star98, "statsmodels", "California schools: fraction above median (303 x 20)"),
    "grunfeld": (grunfeld, "statsmodels", "log investment of firms (220 x 3)"),
    "anes96": (anes96, "statsmodels", "1996 election: self-placement left-right (944 x 8)"),
    "engel": (engel, "statsmodels", "food expenditure against income (235 x 1)"),
    "macrodata": (macrodata, "statsmodels", "US macro: log real investment (203 x 10)"),
}


def load(name):
    loader, _, _ = DATASETS[name]
    X, y = loader()
    return np.asarray(X, dtype=float), np.asarray(y, dtype=float)
