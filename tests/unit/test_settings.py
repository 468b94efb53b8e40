"""The one settings object (lim/core/settings.py): its fields are the table of docs/operations.md,
and no other module reads a LIM_* variable from the environment."""
import re
from dataclasses import fields

import pytest

from lim.core import limits, settings
from lim.core.paths import ROOT
from lim.core.settings import Settings, SettingsError

PACKAGES = ("lim", "assets", "checks", "pipelines")
# os.environ.get("LIM_…"), os.environ["LIM_…"], os.getenv("LIM_…"), env.get(f"LIM_…") and the like
DIRECT = re.compile(r"""(environ|getenv|env)\s*(\.get\s*)?[\[(]\s*f?["']LIM_""")


def documented_variables() -> dict[str, str]:
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = text.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `(LIM_[A-Z0-9_<>]+)` \| `(\w+)` \|", section, flags=re.M))


def test_the_table_of_operations_md_is_the_settings_fields():
    assert documented_variables() == Settings.variables()
    for f in fields(Settings):
        assert f.metadata["var"].startswith("LIM_") and f.metadata["doc"], f.name


def test_no_module_reads_lim_variables_from_the_environment_itself():
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "lim" / "core" / "settings.py":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if DIRECT.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "read LIM_* through lim.core.settings:\n" + "\n".join(offenders)


def test_from_env_defaults_and_values():
    assert Settings.from_env({}) == Settings()
    s = Settings.from_env({"LIM_WAREHOUSE": "/w/x.duckdb", "LIM_GX_BACKGROUND": "0", "LIM_FAIL_AT": "alerts, rules",
                           "LIM_READ_MAX_COLUMNS": "7", "LIM_QUALITY_VOLUME_ERROR": "0.8", "LIM_ENV": "prod",
                           "OTHER": "x"})
    assert (s.warehouse, s.gx_background, s.fail_at, s.read_max_columns) == ("/w/x.duckdb", False, ("alerts", "rules"), 7)
    assert dict(s.quality) == {"volume_error": "0.8"} and s.production
    assert s.staged_root(s.warehouse_path()) == "/w/staged" and s.analyst_path(s.warehouse_path()) == "/w/analyst.duckdb"
    assert "s" * 40 not in repr(Settings(pseudonym_key="s" * 40))  # the secret is never shown
    with pytest.raises(SettingsError, match="LIM_PERSONS_BUCKET_ROWS"):
        Settings.from_env({"LIM_PERSONS_BUCKET_ROWS": "many"})
    assert (Settings().gx_engine, Settings.from_env({"LIM_GX_ENGINE": "pandas"}).gx_engine) == ("duckdb", "pandas")
    with pytest.raises(SettingsError, match="LIM_GX_ENGINE"):
        Settings.from_env({"LIM_GX_ENGINE": "spark"})
    with pytest.raises(SettingsError, match="LIM_PUBLISH_PROCESSES"):
        Settings.from_env({"LIM_PUBLISH_PROCESSES": "two"})


def test_current_follows_the_environment(monkeypatch):
    monkeypatch.delenv("LIM_FAIL_AT", raising=False)
    first = settings.current()
    assert settings.current() is first  # built once while the variables stay the same
    monkeypatch.setenv("LIM_FAIL_AT", "alerts")
    assert settings.current().fail_at == ("alerts",)
    monkeypatch.setenv("LIM_READ_MAX_CELL_CHARS", "9")
    assert limits.current().max_cell_chars == 9


def test_the_executor_settings_make_the_monthly_jobs_executor():
    from pipelines.executors import executor_def, uses_child_processes

    assert (Settings().executor, Settings().max_processes) == ("in_process", 2) and not uses_child_processes(Settings())
    with pytest.raises(SettingsError, match="LIM_EXECUTOR"):
        Settings.from_env({"LIM_EXECUTOR": "threads"})
    assert executor_def(Settings()).name == "in_process"
    multi = Settings.from_env({"LIM_EXECUTOR": "multiprocess", "LIM_MAX_PROCESSES": "3"})
    assert executor_def(multi).name == "lim_multiprocess" and uses_child_processes(multi)
    with pytest.raises(SettingsError, match="LIM_MAX_PROCESSES"):
        executor_def(Settings.from_env({"LIM_EXECUTOR": "multiprocess", "LIM_MAX_PROCESSES": "0"}))
    with pytest.raises(SettingsError, match="LIM_CELERY_BROKER"):
        executor_def(Settings.from_env({"LIM_EXECUTOR": "celery"}))
    celery = Settings.from_env({"LIM_EXECUTOR": "celery", "LIM_CELERY_BROKER": "redis://127.0.0.1:6379/0"})
    assert executor_def(celery).name == "lim_celery"


def test_a_step_process_adopts_the_settings_of_its_run(monkeypatch):
    monkeypatch.setenv("LIM_FAIL_AT", "rules")  # stale: not a setting of the run
    monkeypatch.setenv("LIM_PSEUDONYM_KEY", "s" * 40)
    monkeypatch.setenv("LIM_READ_MAX_COLUMNS", "9")
    carried = settings.run_environment()
    assert "LIM_PSEUDONYM_KEY" not in carried and carried["LIM_READ_MAX_COLUMNS"] == "9"  # the key never travels
    monkeypatch.setenv("LIM_EXECUTOR", "celery")
    monkeypatch.setenv("LIM_WAREHOUSE", "")  # (recorded, so that the test's end removes what is adopted)
    settings.adopt_environment({"LIM_READ_MAX_COLUMNS": "7", "LIM_WAREHOUSE": "/w/x.duckdb", "LIM_PSEUDONYM_KEY": "x"})
    s = settings.current()
    assert (s.fail_at, s.executor, s.read_max_columns, s.warehouse) == ((), "in_process", 7, "/w/x.duckdb")
    assert s.pseudonym_key == "s" * 40  # kept as this process has it
