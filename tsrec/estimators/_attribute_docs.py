"""The fitted attributes every forecaster (or classifier) has, added to each estimator's docstring.

Each model documents its own fitted attributes (``cycle_``, ``coef_``); the shared ones were listed in
no docstring that ``help()`` shows, and two of them in no document at all. They are written once here
and appended to the Attributes section of each public estimator's docstring when its class is made.
"""

from __future__ import annotations

import re

#: what forecasters and classifiers share
_TRAINED = {
    "network_": ("torch.nn.Module", "The trained network."),
    "history_": ("dict", "The training record: ``epochs``, ``train_loss`` and ``val_loss`` (a value an epoch) and "
                         "``best_val_loss`` (see docs/parameters.md)."),
}

FORECASTER_ATTRIBUTES = {
    **_TRAINED,
    "columns_": ("list", "The variates' names in the order fitted (0, 1, ... for an array)."),
    "n_channels_": ("int", "The number of variates."),
    "scaler_": ("sklearn.preprocessing.StandardScaler, RobustScaler or None", "The statistics of every training "
                "row (one series, or ``scaling=\"global\"``), a ``RobustScaler`` with ``scaler=\"robust\"``; None "
                "with per-series scaling of a panel."),
    "series_scales_": ("pandas.DataFrame or None", "Each series' statistics with per-series scaling of a panel: a "
                       "row per series key, columns (``\"mean\"`` | ``\"scale\"``, variate), ``\"median\"`` for "
                       "``\"mean\"`` with ``scaler=\"robust\"``; else None."),
    "network_meta_": ("dict", "What the network was built with besides the parameters, such as a cycle length or "
                      "period read off the time step; saved with the model."),
    "position_offset_": ("list of int", "Per stored series, the shift of its step count: 0 after fit; a model "
                         "loaded from its folder keeps only the last rows, and counts their steps on from the "
                         "training's by it (CycleNet's cycle phase reads the count)."),
}

CLASSIFIER_ATTRIBUTES = {
    "classes_": ("ndarray", "The class labels."),
    "n_features_in_": ("int", "Timepoints (2-D X) or channels (3-D X) seen in fit."),
    "feature_names_in_": ("ndarray", "The column names of a pandas X whose names are all text: a 2-D table's "
                          "timepoints (scikit-learn's rule) or a panel's channels; absent otherwise."),
    "n_channels_": ("int", "Channels per sample (1 for 2-D X)."),
    "n_timepoints_": ("int", "Timepoints per sample: X at predict time must have as many."),
    "input_ndim_": ("int", "Whether X was 2-D (n_samples, n_timepoints) or 3-D (n_samples, n_channels, "
                    "n_timepoints), as X at predict time must be."),
    **_TRAINED,
}

_SECTION = re.compile(r"\n(?P<indent>[ ]*)(?P<name>[A-Z][A-Za-z ]*)\n(?P=indent)-{3,}\n")


def with_shared_attributes(doc: str | None, shared: dict) -> str | None:
    """``doc`` with the ``shared`` attributes it does not document yet at the end of its Attributes
    section (a new section before Examples where it has none); a docstring without sections as it is."""
    sections = list(_SECTION.finditer(doc or ""))
    if not sections:
        return doc
    indent = sections[0]["indent"]
    missing = [(name, kind, text) for name, (kind, text) in shared.items()
               if not re.search(rf"^{indent}{re.escape(name)} :", doc, flags=re.MULTILINE)]
    if not missing:
        return doc
    entries = "".join(f"{indent}{name} : {kind}\n{_wrapped(text, indent + '    ')}" for name, kind, text in missing)
    names = [m["name"] for m in sections]
    if "Attributes" in names:
        at = names.index("Attributes")
        end = sections[at + 1].start() + 1 if at + 1 < len(sections) else len(doc.rstrip()) + 1
        body = doc[:end].rstrip("\n") + "\n"
        return body + entries + ("\n" + doc[end:] if at + 1 < len(sections) else indent)
    where = sections[names.index("Examples")].start() + 1 if "Examples" in names else len(doc.rstrip()) + 1
    return doc[:where] + f"{indent}Attributes\n{indent}----------\n{entries}\n" + doc[where:]


def _wrapped(text: str, indent: str, width: int = 100) -> str:
    """``text`` as indented lines of at most ``width`` characters."""
    lines, line = [], ""
    for word in text.split():
        if line and len(indent) + len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "".join(f"{indent}{part}\n" for part in [*lines, line])
