import stat

import polars as pl
import pytest

from recurrence import open_warehouse
from recurrence.warehouse import SCHEMAS, connect


def test_new_warehouse_is_private_and_has_every_schema(tmp_path):
    path = tmp_path / "nested" / "wh.duckdb"
    con = connect(path)
    con.execute("create table staging.t as select 1 as x")
    con.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    con = connect(path, read_only=True)
    schemas = {
        r[0] for r in con.sql("select schema_name from information_schema.schemata").fetchall()
    }
    assert set(SCHEMAS) <= schemas
    con.close()


def test_open_warehouse_reads_tables_as_polars(tmp_path):
    path = tmp_path / "wh.duckdb"
    con = connect(path)
    con.execute("create table audit.t as select * from range(3) r(x)")
    con.close()
    with open_warehouse(path) as wh:
        assert "audit.t" in wh.tables()
        frame = wh.table("audit.t")
        assert isinstance(frame, pl.DataFrame)
        assert frame["x"].to_list() == [0, 1, 2]
        assert wh.sql("select count(*) as n from audit.t where x >= $lo", lo=1)["n"][0] == 2
        with pytest.raises(KeyError, match=r"No table audit\.nope"):
            wh.table("audit.nope")


def test_open_missing_warehouse_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="recurrence run"):
        open_warehouse(tmp_path / "absent.duckdb")


def test_memory_limit_is_applied(tmp_path):
    con = connect(tmp_path / "wh.duckdb", memory_limit="1GB")
    limit = con.sql("select current_setting('memory_limit')").fetchone()[0]
    con.close()
    assert limit.endswith("MiB")
    assert 900 <= float(limit.split()[0]) <= 1000
