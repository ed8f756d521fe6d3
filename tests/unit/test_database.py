import pytest

from edlib.core.database import Database, Databases


def test_only_the_owner_opens_a_database():
    dbs = Databases()
    dbs.create("orders")
    assert dbs.open("orders", by="orders").owner == "orders"
    with pytest.raises(PermissionError, match="'shipping' may not open the database of 'orders'"):
        dbs.open("orders", by="shipping")
    with pytest.raises(KeyError):
        dbs.open("nobody", by="nobody")


def test_documents_round_trip():
    db = Database("orders")
    db.put("orders", "o-1", {"item": "book", "qty": 2})
    assert db.get("orders", "o-1") == {"item": "book", "qty": 2}
    assert db.get("orders", "missing") is None
    assert db.count("orders") == 1 and db.rows() == 1
    assert db.all("orders") == [{"item": "book", "qty": 2}]


def test_transaction_rolls_back_everything_on_error():
    db = Database("orders")
    with pytest.raises(RuntimeError), db.transaction():
        db.put("orders", "o-1", {"a": 1})
        db.put("orders", "o-2", {"a": 2})
        raise RuntimeError("crash")
    assert db.count("orders") == 0


def test_nested_transaction_rolls_back_only_inner():
    db = Database("orders")
    with db.transaction():
        db.put("orders", "o-1", {"a": 1})
        with pytest.raises(ValueError), db.transaction():
            db.put("orders", "o-2", {"a": 2})
            raise ValueError("inner")
    assert db.count("orders") == 1


@pytest.mark.parametrize("table", ["", "drop table x", 'x"; --', None, "1abc"])
def test_table_names_are_checked(table):
    with pytest.raises(ValueError, match="table name"):
        Database("o").put(table, "id", {"a": 1})


def test_bad_documents_store_nothing():
    db = Database("o")
    for bad in (None, "x", {"x": float("nan")}):
        with pytest.raises((TypeError, ValueError)):
            db.put("t", "id", bad)
    with pytest.raises(ValueError, match="id must be"):
        db.put("t", "", {"a": 1})
    assert db.count("t") == 0


def test_eight_threads_of_read_modify_write_lose_no_update():
    import threading

    db = Database("counter")
    db.put("c", "n", {"v": 0})

    def bump(times):
        for _ in range(times):
            with db.transaction():
                value = db.get("c", "n")["v"]
                db.put("c", "n", {"v": value + 1})

    threads = [threading.Thread(target=bump, args=(250,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.get("c", "n") == {"v": 8 * 250}
