"""Imported once by the forkserver of lim/quality/worker.py, so that every worker forked
from it starts with Great Expectations, pandas and polars already imported (~4 s)."""
import logging
import warnings

logging.getLogger("great_expectations").setLevel(logging.ERROR)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import great_expectations  # noqa: F401
    import great_expectations.expectations  # noqa: F401
    import pandas  # noqa: F401
    import polars  # noqa: F401

    import lim.quality.expectations  # noqa: F401
    import lim.ingest.staging  # noqa: F401
