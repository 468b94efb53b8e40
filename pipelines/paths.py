"""Where the project's own files are (SQL, samples), independent of the working directory."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = ROOT / "sql"
SAMPLES_DIR = ROOT / "data_samples"
SAMPLE_LANDING = SAMPLES_DIR / "landing"
SAMPLE_POLICY = SAMPLES_DIR / "policy.yaml"
DEFAULT_VAR = ROOT / "var"
