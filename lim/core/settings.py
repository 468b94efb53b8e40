"""The one settings object: every ``LIM_*`` environment variable the pipeline reads, in one frozen
dataclass built from the environment (``Settings.from_env(os.environ)``).

Each field names its variable, its default and its meaning (``metadata``); docs/operations.md has
the same table (tests/unit/test_settings.py compares them, and checks that no module of lim/,
assets/, checks/ or pipelines/ reads a ``LIM_*`` variable from ``os.environ`` itself).

:func:`current` is the settings of this process: built once and kept while the ``LIM_*``
variables stay the same (a test or a drill that sets one gets new settings on the next call).
A bad value (a word where a number is wanted) raises :class:`SettingsError` naming the variable.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from lim.core.paths import DEFAULT_VAR, SAMPLE_LANDING, SAMPLE_POLICY

PREFIX = "LIM_"
QUALITY_PREFIX = "LIM_QUALITY_"
EXECUTORS = ("in_process", "multiprocess", "celery")  # the values of LIM_EXECUTOR


SHARD_CHOICES = ("none", "county")
GX_ENGINES = ("duckdb", "pandas")  # LIM_GX_ENGINE (lim/quality/expectations.py ENGINES)


class SettingsError(ValueError):
    """A LIM_* variable with a value that cannot be used (one line naming it)."""


def _var(name: str, default, doc: str, kind: str = "str", secret: bool = False):
    return field(default=default, repr=not secret,
                 metadata={"var": name, "doc": doc, "kind": kind, "secret": secret})


@dataclass(frozen=True)
class Settings:
    # --- where a run reads and writes (the options of `lim run` win over these) ------------------
    warehouse: str = _var("LIM_WAREHOUSE", "", "数据仓库文件；空：./var/warehouse.duckdb")
    landing: str = _var("LIM_LANDING", "", "落地目录（部门文件 <landing>/<YYYY-MM>/）；空：data_samples/landing")
    staged: str = _var("LIM_STAGED", "", "暂存 Parquet 目录；空：数据仓库旁的 staged/")
    out: str = _var("LIM_OUT", "", "输出目录（<out>/<YYYY-MM>/）；空：./var/out")
    policy: str = _var("LIM_POLICY", "", "政策 YAML 文件；空：data_samples/policy.yaml")
    analyst_db: str = _var("LIM_ANALYST_DB", "", "分析库副本（假名化）；空：数据仓库旁的 analyst.duckdb")
    # --- the analysts' copy's key ---------------------------------------------------------------
    pseudonym_key: str = _var("LIM_PSEUDONYM_KEY", "", "假名化密钥本身（至少 32 个字符）", secret=True)
    pseudonym_key_file: str = _var("LIM_PSEUDONYM_KEY_FILE", "", "存放假名化密钥的文件（生产模式下须为 600 权限）")
    env: str = _var("LIM_ENV", "", "`production`（或 `prod`）：未配置密钥时拒绝运行；其他：开发模式，随机密钥")
    # --- DuckDB ---------------------------------------------------------------------------------
    duckdb_memory: str = _var("LIM_DUCKDB_MEMORY", "6GB", "DuckDB 内存上限（省级月份用 5GB）")
    duckdb_temp: str = _var("LIM_DUCKDB_TEMP", "", "DuckDB 溢出目录；空：DuckDB 默认")
    persons_bucket_rows: int = _var("LIM_PERSONS_BUCKET_ROWS", 8_000_000,
                                    "persons_monthly 每个分桶的来源行数；内存少时调低", "int")
    publish_processes: int = _var("LIM_PUBLISH_PROCESSES", 2,
                                  "写各乡镇核查清单工作簿的进程数（预警不少于 20,000 条时；1：在本进程内写）", "int")
    # --- county shards (docs/architecture.md "County shards") ------------------------------------
    shards: str = _var("LIM_SHARDS", "none", "`county`：按县分片计算人员、家庭与规则（结果与整体计算相同）；`none`：整体计算")
    # --- Great Expectations ---------------------------------------------------------------------
    gx_background: bool = _var("LIM_GX_BACKGROUND", True, "`0`：关闭后台 GX 校验进程", "flag")
    gx_child_rows: int = _var("LIM_GX_CHILD_ROWS", 8_000_000,
                              "月份合格行数超过此值时不在后台校验，在规则之后校验（`pandas` 引擎：于子进程中；0：总如此）", "int")
    gx_engine: str = _var("LIM_GX_ENGINE", "duckdb",
                          "谁计算期望：`duckdb`（DuckDB 计数，GX 生成结果与 Data Docs，结果相同）或 `pandas`（GX 在 pandas 上逐行计算）")
    # --- reading landed files (lim/core/limits.py; 0 turns a bound off) --------------------------
    read_max_columns: int = _var("LIM_READ_MAX_COLUMNS", 500, "一个文件的最多列数", "limit")
    read_max_cell_chars: int = _var("LIM_READ_MAX_CELL_CHARS", 10_000, "一个单元格的最多字符数（超出：隔离该行）", "limit")
    read_max_xlsx_mb: int = _var("LIM_READ_MAX_XLSX_MB", 4096, "XLSX 解压后的最大 MiB（压缩炸弹）", "limit")
    read_max_parquet_footer_mb: int = _var("LIM_READ_MAX_PARQUET_FOOTER_MB", 64, "Parquet 文件尾（元数据）的最大 MiB", "limit")
    read_memory_mb: int = _var("LIM_READ_MEMORY_MB", 6144, "读取一个文件的工作进程可增加的地址空间 MiB", "limit")
    read_timeout_s: int = _var("LIM_READ_TIMEOUT_S", 3600, "读取一个文件的工作进程最长秒数", "limit")
    read_isolate: int = _var("LIM_READ_ISOLATE", 1, "`0`：在管道进程内读取（无内存和时间限制）", "limit")
    stream_min_bytes: int = _var("LIM_STREAM_MIN_BYTES", 32 << 20, "不小于此字节数的 CSV 分批流式读取", "int")
    stream_batch_rows: int = _var("LIM_STREAM_BATCH_ROWS", 500_000, "流式读取每批行数", "int")
    # --- quality checks ---------------------------------------------------------------------------
    quality: tuple[tuple[str, str], ...] = _var("LIM_QUALITY_<FIELD>", (),
                                      "质量检查阈值（QualityConfig 的字段名大写，如 LIM_QUALITY_VOLUME_ERROR=0.8；"
                                      "`off` 关闭一个错误级别；见 docs/quality.md）；此处为 (字段, 值) 对", "prefix")
    # --- Dagster executor of the monthly job (pipelines/executors.py, docs/deploy.md) ------------
    executor: str = _var("LIM_EXECUTOR", "in_process",
                         "月度任务的 Dagster 执行器：`in_process`（一个进程）、`multiprocess`（本机多进程）、"
                         "`celery`（Celery 集群，见 docs/deploy.md）", "choice")
    max_processes: int = _var("LIM_MAX_PROCESSES", 2, "`multiprocess`：同时运行的步骤进程数（至少 1）", "int")
    celery_broker: str = _var("LIM_CELERY_BROKER", "", "`celery`：代理地址，如 redis://127.0.0.1:6379/0（必填）")
    celery_backend: str = _var("LIM_CELERY_BACKEND", "", "`celery`：结果后端；空：与 LIM_CELERY_BROKER 相同")
    # --- drills and tests -------------------------------------------------------------------------
    fail_at: tuple[str, ...] = _var("LIM_FAIL_AT", (), "测试与演练：在所列步骤（逗号分隔）注入故障；生产中不得设置", "list")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        values = {}
        for f in fields(cls):
            kind, name = f.metadata["kind"], f.metadata["var"]
            if kind == "prefix":
                values[f.name] = tuple((k[len(QUALITY_PREFIX):].lower(), v) for k, v in sorted(env.items())
                                       if k.startswith(QUALITY_PREFIX))
                continue
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                continue
            raw = raw.strip()
            if kind in ("int", "limit"):
                values[f.name] = _int(name, raw)
            elif kind == "flag":
                values[f.name] = raw != "0"
            elif kind == "choice":
                if raw not in EXECUTORS:
                    raise SettingsError(f"{name} 必须是 {' | '.join(EXECUTORS)} 之一，而不是 {raw!r}")
                values[f.name] = raw
            elif kind == "list":
                values[f.name] = tuple(t.strip() for t in raw.split(",") if t.strip())
            else:
                values[f.name] = raw
        if values.get("gx_engine", "duckdb") not in GX_ENGINES:
            raise SettingsError(f"LIM_GX_ENGINE={values['gx_engine']!r}：只能是 {' 或 '.join(GX_ENGINES)}")
        if values.get("shards", "none") not in SHARD_CHOICES:
            raise SettingsError(f"LIM_SHARDS={values['shards']!r}：只能是 {' 或 '.join(SHARD_CHOICES)}")
        return cls(**values)

    # --- the locations with their defaults (the embedded local setup under ./var) ----------------
    def warehouse_path(self, given: str | None = None) -> str:
        return given or self.warehouse or str(DEFAULT_VAR / "warehouse.duckdb")

    def landing_root(self, given: str | None = None) -> str:
        return given or self.landing or str(SAMPLE_LANDING)

    def out_root(self, given: str | None = None) -> str:
        return given or self.out or str(DEFAULT_VAR / "out")

    def staged_root(self, warehouse_path: str, given: str | None = None) -> str:
        return given or self.staged or os.path.join(os.path.dirname(os.path.abspath(warehouse_path)), "staged")

    def policy_path(self, given: str | None = None) -> str:
        return given or self.policy or str(SAMPLE_POLICY)

    def analyst_path(self, warehouse_path: str) -> str:
        return self.analyst_db or os.path.join(os.path.dirname(os.path.abspath(warehouse_path)), "analyst.duckdb")

    @property
    def production(self) -> bool:
        return self.env.lower() in ("production", "prod")

    @staticmethod
    def variables() -> dict[str, str]:
        """Variable -> field name, for every field (the docs' table, messages)."""
        return {f.metadata["var"]: f.name for f in fields(Settings)}


def var_of(name: str) -> str:
    """The environment variable of a field."""
    return next(f.metadata["var"] for f in fields(Settings) if f.name == name)


def default_of(name: str):
    return next(f.default for f in fields(Settings) if f.name == name)


def _int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} 必须是整数，而不是 {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} 不能为负数：{raw}")
    return value


_cache: tuple[tuple, Settings] | None = None


def current() -> Settings:
    """The settings of this process's environment, built once while its LIM_* variables stay the same."""
    global _cache
    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(PREFIX)))
    if _cache is None or _cache[0] != key:
        _cache = (key, Settings.from_env(os.environ))
    return _cache[1]


def location_environment(locations: Mapping[str, str]) -> dict[str, str]:
    """The LIM_* variables of a run's locations (field name -> path: warehouse, landing, staged, out,
    policy, analyst_db), for the executor's child processes that build the run's resources from
    the settings (pipelines/runner.py)."""
    return {var_of(name): str(value) for name, value in locations.items() if value}


def secret_variables() -> set[str]:
    return {f.metadata["var"] for f in fields(Settings) if f.metadata["secret"]}


def run_environment() -> dict[str, str]:
    """The LIM_* variables of this process but the secret ones (the analysts' key itself): the settings
    a run of the multiprocess or Celery executor carries to its step processes in its run config
    (pipelines/runner.py), where :func:`adopt_environment` applies them."""
    secret = secret_variables()
    return {k: v for k, v in child_environment().items() if k not in secret}


def adopt_environment(variables: Mapping[str, str]) -> None:
    """Make this process's LIM_* variables `variables` (a step process of a run started elsewhere: a
    forkserver's child has the server's environment, a Celery worker its own): the others are
    removed, the secret ones kept as they are."""
    secret = secret_variables()
    for k in [k for k in os.environ if k.startswith(PREFIX) and k not in variables and k not in secret]:
        del os.environ[k]
    os.environ.update({k: v for k, v in variables.items() if k.startswith(PREFIX) and k not in secret})


def child_environment() -> dict[str, str]:
    """The LIM_* variables as they are, for a child process that must see the same settings (the
    read worker of lim/ingest/read_worker.py rebuilds its Settings from them)."""
    return {k: v for k, v in os.environ.items() if k.startswith(PREFIX)}
