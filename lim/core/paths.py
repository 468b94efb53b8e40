"""Where the project's own files are (SQL, samples), independent of the working directory; and where
a run may read and write (check_locations, landing_links_outside)."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = ROOT / "sql"
SAMPLES_DIR = ROOT / "data_samples"
SAMPLE_LANDING = SAMPLES_DIR / "landing"
SAMPLE_POLICY = SAMPLES_DIR / "policy.yaml"
DEFAULT_VAR = ROOT / "var"


# --- where a run reads and writes -----------------------------------------------------------------
# A run reads the landing folder and writes four places: the staged Parquet folder, the output
# folder (it swaps <out>/<M> for a new one and removes the old one), the warehouse file (with its
# .wal and the month locks beside it) and the analysts' copy (written aside, then renamed over the
# old one). No two of the five may be the same place and none may be inside another, symlinks and
# `..` resolved: `--out` equal to `--landing` would remove the month's department files with the
# old <out>/<M>, `--staged` equal to `--landing` would replace a delivered hr.parquet, an analysts'
# copy at the warehouse's path would replace the restricted warehouse. The landing folder is never
# written, moved or removed by the pipeline.
LOCATION_LABELS = {
    "landing": "落地目录（--landing）",
    "staged": "暂存目录（--staged）",
    "out": "输出目录（--out）",
    "warehouse": "数据仓库（--warehouse）",
    "analyst": "分析库副本（--dest 或 LIM_ANALYST_DB）",
}


class PathConflict(ValueError):
    """Two locations of a run overlap; the message (one line) says which and what to change."""


def real(path) -> Path:
    """The absolute path with every symlink and `..` resolved (as far as the path exists)."""
    return Path(os.path.realpath(os.path.expanduser(os.fspath(path))))


def _same(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)  # hard links, bind mounts
    except OSError:
        return False


def check_locations(**locations) -> None:
    """Raise PathConflict when two of the given locations (keys of LOCATION_LABELS; None: not used)
    are the same or one is inside the other; a conflict with the landing folder is named first.
    The warehouse's and the analysts' copy's .wal files count as the files themselves."""
    items = sorted(((k, real(p)) for k, p in locations.items() if p), key=lambda kp: kp[0] == "landing")
    conflicts = []
    for i, (ka, pa) in enumerate(items):
        for kb, pb in items[i + 1:]:
            la, lb = LOCATION_LABELS[ka], LOCATION_LABELS[kb]
            if _same(pa, pb):
                what = f"{la}与{lb}是同一位置（{pa}）"
            elif pa.is_relative_to(pb):
                what = f"{la} {pa} 位于{lb} {pb} 之内"
            elif pb.is_relative_to(pa):
                what = f"{lb} {pb} 位于{la} {pa} 之内"
            elif {ka, kb} == {"warehouse", "analyst"} and (
                    _same(Path(f"{pa}.wal"), pb) or _same(pa, Path(f"{pb}.wal"))):
                what = f"{la} {pa} 与{lb} {pb} 中一个是另一个的 WAL 文件"
            else:
                continue
            conflicts.append(("landing" not in (ka, kb), what + _advice(ka, kb)))
    if conflicts:
        raise PathConflict(_one_line(min(conflicts, key=lambda c: c[0])[1]))


def _advice(ka: str, kb: str) -> str:
    if "landing" in (ka, kb):
        other = LOCATION_LABELS[kb if ka == "landing" else ka]
        return f"：管道从不在落地目录中写入、移动或删除文件，请为{other}另选一个与落地目录互不包含的位置；未运行任何步骤"
    if {ka, kb} == {"warehouse", "analyst"}:
        return "：分析库副本会替换该文件，受限数据仓库将被覆盖；请为分析库副本另选路径；未运行任何步骤"
    return "：运行会覆盖或删除对方的文件，请为它们分别指定互不包含的位置；未运行任何步骤"


def _one_line(text: str) -> str:
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def landing_links_outside(landing_root, month: str) -> list[tuple[str, Path]]:
    """Entries of <landing>/<M> (and the month folder itself) that are symlinks leading outside the
    landing folder: (name relative to the landing folder, where it leads). Reading one would put
    whatever it points at (another folder's files, the warehouse, a system file) into the run and
    its quarantine rows."""
    root = real(landing_root)
    month_dir = Path(os.path.abspath(os.path.expanduser(os.fspath(landing_root)))) / month
    found = []
    if month_dir.is_symlink() and not real(month_dir).is_relative_to(root):
        return [(month, real(month_dir))]
    try:
        entries = sorted(os.scandir(month_dir), key=lambda e: e.name)
    except OSError:
        return []
    for entry in entries:
        if entry.is_symlink():
            target = real(entry.path)
            if not target.is_relative_to(root):
                found.append((f"{month}/{entry.name}", target))
    return found
