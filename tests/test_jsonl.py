import pytest

from pipeline.jsonl import append_jsonl, read_jsonl, write_jsonl_atomic
from pipeline.records import ErrorRecord


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "claims.jsonl"
    write_jsonl_atomic(target, [{"n": 1}])

    def broken():
        yield {"n": 2}
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        write_jsonl_atomic(target, broken())
    assert list(read_jsonl(target)) == [{"n": 1}]
    assert [p.name for p in tmp_path.iterdir()] == ["claims.jsonl"]


def test_records_are_written_with_their_schema_version(tmp_path):
    target = tmp_path / "errors.jsonl"
    write_jsonl_atomic(target, [ErrorRecord(stage="ingest", reason="binary-content", input="a.html")])
    assert next(read_jsonl(target))["schema_version"] == 1


def test_append_after_a_torn_line_starts_a_new_line(tmp_path):
    target = tmp_path / "results.jsonl"
    append_jsonl(target, [{"n": 1}])
    with open(target, "a", encoding="utf-8") as stream:
        stream.write('{"n": ')
    append_jsonl(target, [{"n": 3}])
    assert list(read_jsonl(target)) == [{"n": 1}, {"n": 3}]
