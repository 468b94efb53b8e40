"""lim/publish/loop.town_workbooks_written: the town workbooks written by worker processes while the
caller writes the month's other files — the same bytes as written in the pipeline's own process,
a worker's error fails the block's end, and an error in the block stops the workers."""
from __future__ import annotations

from datetime import date

import pytest

from lim.publish.csv_out import STAFF_COLUMNS
from lim.publish.loop import BOOK_FIELDS, TownBook, town_workbooks_written

pytestmark = pytest.mark.unit
MONTH = "2026-06"


def _books(folder, n_towns=3, n_alerts=40) -> list[TownBook]:
    books = []
    for t in range(n_towns):
        alerts = [{"due_date": date(2026, 7, 31), "last_check_date": None, "last_conclusion": None, "list_priority": "中",
                   "overdue": False, "priority": "中", "status": "新增"} for _ in range(n_alerts)]
        assert set(alerts[0]) == set(BOOK_FIELDS)
        rows = [[f"YJ202606-{t:02d}{i:06d}" if c == 0 else f"{h}{i}" for c, h in enumerate(STAFF_COLUMNS)] for i in range(n_alerts)]
        books.append(TownBook(folder / "workbooks" / f"36072610{t}_镇{t}.xlsx", MONTH, f"36072610{t}", f"镇{t}", alerts, rows,
                              [], 0, "", {}, {}, False))
    return books


def test_workers_write_the_same_bytes_while_the_block_runs(tmp_path):
    here, there = _books(tmp_path / "here"), _books(tmp_path / "there")
    with town_workbooks_written(here, workers=1):
        assert all(b.path.exists() for b in here)  # in this process: written before the block
    with town_workbooks_written(there, workers=2, min_alerts=0):
        block_ran = True
    assert block_ran and all(b.path.exists() for b in there)
    assert [b.path.read_bytes() for b in there] == [b.path.read_bytes() for b in here]


def test_a_workers_error_fails_at_the_end_of_the_block(tmp_path):
    books = _books(tmp_path)
    (tmp_path / "blocked").write_text("a file where a folder should be")
    books[1] = TownBook(tmp_path / "blocked" / "x.xlsx", *[getattr(books[1], f) for f in list(TownBook.__dataclass_fields__)[1:]])
    after = []
    with pytest.raises(OSError):
        with town_workbooks_written(books, workers=2, min_alerts=0):
            after.append("block")
    assert after == ["block"]  # the caller's files were written; the step fails all the same


def test_an_error_in_the_block_stops_the_workers(tmp_path):
    books = _books(tmp_path, n_towns=6, n_alerts=3000)  # a second or more of writing
    with pytest.raises(RuntimeError, match="the block failed"):
        with town_workbooks_written(books, workers=2, min_alerts=0):
            raise RuntimeError("the block failed")
    assert not all(b.path.exists() for b in books)  # not waited for: the workers were stopped
