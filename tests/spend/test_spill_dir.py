"""Where a gateway's spend records wait while its store is down: a gateway replays every spill it finds
there into its own store, so two stores must never share the folder (a record of one team's store once
landed in another's: tests/spend/test_store_gateway.py ran beside a gateway of another store)."""

from __future__ import annotations

from anyray.store import default_spill_dir


def test_each_server_store_has_its_own_spill_folder_named_without_its_password(tmp_path, monkeypatch):
    monkeypatch.setenv("ANYRAY_HOME", str(tmp_path))
    a = default_spill_dir("postgresql://anyray:s3cret@db.internal:5432/spend")
    b = default_spill_dir("postgresql://anyray:s3cret@db.internal:5432/spend?options=-csearch_path%3Dteam_b")
    rotated = default_spill_dir("postgresql://anyray:n3w-s3cret@db.internal:5432/spend")
    assert a.parent == b.parent == tmp_path / "spill" and a != b
    assert rotated == a  # a new password is the same store: its spills are still found
    assert "s3cret" not in str(a)


def test_a_sqlite_store_spills_next_to_its_file(tmp_path):
    assert default_spill_dir(f"sqlite:///{tmp_path / 'one' / 'spend.db'}") == tmp_path / "one" / "spill"
