"""File-based batch forecasting: many series from CSV or Parquet, long or wide, local or Dask.

Typical use, with a folder written by ``est.save("model_dir")``::

    from tsrec.batch import forecast_files
    forecast_files("model_dir", ["a.csv", "b.csv"], "forecasts.parquet", engine="dask")

Dask is optional (``pip install -e '.[dask]'`` in the checkout) and imported only by ``engine="dask"``.
"""

from tsrec.batch._checks import UnfittedModelError
from tsrec.batch.forecast import forecast_files, forecast_panel, load_cached
from tsrec.batch.io import InputFileNotFoundError, file_format, read_series, write_forecasts

__all__ = [
    "InputFileNotFoundError", "UnfittedModelError", "file_format", "forecast_files", "forecast_panel", "load_cached",
    "read_series", "write_forecasts",
]
