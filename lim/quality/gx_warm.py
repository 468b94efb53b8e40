"""Great Expectations, pandas and polars (~2.5 s) imported with GX's import-time warnings and
logging quiet: by the GX worker (lim/quality/worker.py) after it is forked, or once by the
forkserver when it preloads GX (lim/core/processes.py)."""
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
