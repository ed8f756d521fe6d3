"""The notebook runner's clean-ups: what it stores is the same on every run and every machine."""
from edlib.course.execute import _REPO, coalesce_streams, relative_paths


def test_consecutive_prints_are_joined_but_not_across_other_outputs():
    out = coalesce_streams([{"output_type": "stream", "name": "stdout", "text": "a\n"},
                            {"output_type": "stream", "name": "stdout", "text": "b\n"},
                            {"output_type": "stream", "name": "stderr", "text": "!\n"},
                            {"output_type": "display_data", "data": {}},
                            {"output_type": "stream", "name": "stdout", "text": "c\n"}])
    assert [o.get("text") for o in out] == ["a\nb\n", "!\n", None, "c\n"]


def test_tracebacks_lose_this_machines_folders():
    line = f"File {_REPO}edlib/database.py:144, and /root/.venv/lib/python3.11/site-packages/numpy/x.py:3"
    assert relative_paths(line) == "File edlib/database.py:144, and numpy/x.py:3"
