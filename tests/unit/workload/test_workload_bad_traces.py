"""Malformed traces are refused with ConfigError naming the file and the line."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from dcsim.config.workloads import TraceArrivals, TraceWorkload
from dcsim.errors import ConfigError
from dcsim.workload.checks import check_arrival_spec, check_trace_spec, check_workload_spec
from dcsim.workload.traces import load_trace, read_bitbrains, read_planetlab

HEADER = "guest,time_s,cpu\n"


def _csv(tmp_path: Path, body: str, name: str = "x.csv") -> Path:
    p = tmp_path / name
    p.write_text(body)
    return p


def _messages(exc: pytest.ExceptionInfo[ConfigError]) -> str:
    return "\n".join(str(i) for i in exc.value.issues)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (HEADER + "a,0,0.1\na,300,abc\n", r"line 3: cpu 'abc' is not a number"),
        (HEADER + "a,0,0.1\na,300,\n", r"line 3: cpu is empty"),
        (HEADER + "a,0,0.1\na,300,-0.2\n", r"line 3: cpu -0.2 is negative"),
        (HEADER + "a,0,0.1\na,300,1.5\n", r"line 3: cpu 1.5 is above 1"),
        ("guest,time_s,cpu_pct\na,0,10\na,300,150\n", r"line 3: cpu_pct 150 is above 100"),
        (HEADER + "a,0,0.1\na,300,inf\n", r"line 3: cpu inf is not finite"),
        (HEADER + "a,0,0.1\na,300,0.2\na,600,0.1\na,750,0.1\n",
         r"line 5: time_s 750 is not on the 300 s grid"),
        (HEADER + "a,0,0.1\na,0,0.2\n", r"line 3: guest 'a' already has a sample"),
        ("guest,time,cpu\na,0,0.1\n", r"unknown column\(s\) 'time'"),
        ("guest,cpu\na,0.1\n", r"missing column 'time_s'"),
        ("guest,time_s\na,0\n", r"missing column 'cpu' \(fraction\) or 'cpu_pct'"),
        ("", r"file is empty"),
        (HEADER, r"no data rows"),
        # was "unknown column(s) <10 characters not shown>" (pandas' "Unnamed: 3")
        ("guest,time_s,cpu,\na,0,0.1,\n", r"x\.csv line 1: column 4 of the header is empty"),
    ],
    ids=["not-a-number", "empty-cell", "negative", "above-1", "above-100-pct", "inf",
         "off-grid", "duplicate", "unknown-col", "missing-time", "missing-cpu", "empty-file",
         "header-only", "empty-header-cell"],
)
def test_generic_csv_refused(tmp_path: Path, body: str, expected: str) -> None:
    p = _csv(tmp_path, body)
    with pytest.raises(ConfigError) as exc:
        load_trace("csv", path=p)
    assert exc.value.issues[0].path == "path"
    text = _messages(exc)
    assert str(p) in text
    assert __import__("re").search(expected, text), text


def test_off_grid_time_names_its_line(tmp_path: Path) -> None:
    p = _csv(tmp_path, HEADER + "b,0,0.1\na,0,0.1\na,300,0.2\na,400,0.1\na,600,0.3\nb,300,0\n")
    with pytest.raises(ConfigError, match="line 5: time_s 400 is not on the 300 s grid"):
        load_trace("csv", path=p)


def test_missing_file_and_unknown_trace(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.csv: no such file"):
        load_trace("csv", path=tmp_path / "nope.csv")
    with pytest.raises(ConfigError, match="unknown trace 'azure'"):
        load_trace("azure")
    with pytest.raises(ConfigError, match="has no day '20990101'"):
        load_trace("planetlab", "20990101")
    with pytest.raises(ConfigError, match=r"dcsim traces import bitbrains"):
        load_trace("bitbrains")


def test_planetlab_folder_with_bad_files(tmp_path: Path) -> None:
    day = tmp_path / "d"
    day.mkdir()
    (day / "good").write_text("1\n2\n3\n")
    (day / "bad value").write_text("1\n\n2x\n3\n")
    (day / "too high").write_text("1\n101\n3\n")
    (day / "negative").write_text("1\n2\n-3\n")
    (day / "short").write_text("1\n2\n")
    (day / "zempty").write_text("")
    with pytest.raises(ConfigError) as exc:
        read_planetlab(day)
    text = _messages(exc)
    assert f"{day / 'bad value'} line 3: '2x' is not a number" in text
    assert f"{day / 'too high'} line 2: utilisation 101 is above 100" in text
    assert f"{day / 'negative'} line 3: utilisation -3 is negative" in text
    assert "has 2 samples, the files before it have 3" in text
    assert f"{day / 'zempty'}: file is empty" in text
    with pytest.raises(ConfigError, match="no such folder"):
        read_planetlab(tmp_path / "missing")


def test_bitbrains_bad_files(tmp_path: Path, test_data: Path) -> None:
    good = gzip.decompress((test_data / "bitbrains/2013-8/1.csv.gz").read_bytes()).decode()
    lines = good.splitlines(keepends=True)
    (tmp_path / "1.csv").write_text("".join(lines[:3]) + "1375308776;\tx;\t1;\t1;\t1;\t1;\t1;"
                                    "\t0;\t0;\t0;\t0\n")
    with pytest.raises(ConfigError, match=r"1\.csv line 4: CPU cores 'x' is not a number"):
        read_bitbrains(tmp_path)
    (tmp_path / "1.csv").write_text(lines[0].replace("CPU usage [%]", "CPU") + lines[1])
    with pytest.raises(ConfigError, match=r"missing column\(s\) 'CPU usage \[%\]'"):
        read_bitbrains(tmp_path)
    (tmp_path / "1.csv").write_text("")
    with pytest.raises(ConfigError, match="file is empty"):
        read_bitbrains(tmp_path)


def test_check_trace_spec_prefixes_config_paths(tmp_path: Path) -> None:
    p = _csv(tmp_path, HEADER + "a,0,0.1\na,300,abc\n", "bad.csv")
    spec = TraceWorkload(name="csv", path="bad.csv")
    issues = check_trace_spec(spec, "guests[1].workload", base_dir=tmp_path)
    assert len(issues) == 1
    assert issues[0].path == "guests[1].workload.path"
    assert issues[0].message == f"{p} line 3: cpu 'abc' is not a number"
    assert check_workload_spec(TraceWorkload(name="planetlab", day="20110303"), count=10) == []
    too_many = check_workload_spec(TraceWorkload(name="google", day="1"), "w", count=5000)
    assert too_many
    assert "repeat" in too_many[0].message
    assert check_trace_spec(TraceWorkload(name="nope"), "w")[0].path == "w.name"
    assert check_trace_spec(TraceWorkload(name="planetlab", column="memory"), "w")[0].path == \
        "w.column"


def test_bad_arrival_file(tmp_path: Path) -> None:
    _csv(tmp_path, "arrival_s,lifetime_s\n0,10\nsoon,5\n20,-1\n", "arr.csv")
    issues = check_arrival_spec(TraceArrivals(path="arr.csv"), "guests[0].arrival",
                                base_dir=tmp_path)
    assert issues[0].path == "guests[0].arrival.path"
    assert "arr.csv line 3: arrival_s 'soon' is not a number" in issues[0].message
    _csv(tmp_path, "t\n0\n", "arr2.csv")
    issues = check_arrival_spec(TraceArrivals(path="arr2.csv"), base_dir=tmp_path)
    assert "missing column 'arrival_s'" in issues[0].message


@pytest.mark.parametrize(("last", "expected"), [
    # numpy overflowed (a RuntimeWarning) and then said "already has a sample at 1e+300"
    ("1e300", "line 3: time_s 1e+300 is above 1e+11"),
    # was taken as one 1e20-second step
    ("1e20", "line 3: time_s 1e+20 is above 1e+11"),
    ("1e10", "line 3: time_s 1e+10 makes the trace span 1e+10 s, more than 100 years "
             "(3.15576e+09 s); time_s is in seconds"),
], ids=["1e300", "1e20", "span"])
def test_huge_times_refused_without_numpy_warnings(tmp_path: Path, last: str,
                                                   expected: str) -> None:
    import warnings

    p = _csv(tmp_path, HEADER + f"a,0,0.1\na,{last},0.1\n", "t.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy overflow warning fails the test
        issues = check_trace_spec(TraceWorkload(name="csv", path="t.csv"), "guests[0].workload",
                                  base_dir=tmp_path)
    assert [(i.path, i.message) for i in issues] == [
        ("guests[0].workload.path", f"{p} {expected}")]


def test_a_grid_step_over_a_week_is_refused_when_read(tmp_path: Path) -> None:
    # two weeks apart: imported before, then refused when the compact trace was loaded
    p = _csv(tmp_path, HEADER + "a,0,0.1\na,1209600,0.1\na,2419200,0.2\n", "t.csv")
    issues = check_trace_spec(TraceWorkload(name="csv", path="t.csv"), "guests[0].workload",
                              base_dir=tmp_path)
    assert [(i.path, i.message) for i in issues] == [
        ("guests[0].workload.path", f"{p}: the samples are 1.2096e+06 s apart (the most common "
         "gap between a guest's samples); at most 604800 s (a week)")]
    ok = _csv(tmp_path, HEADER + "a,0,0.1\na,604800,0.1\n", "w.csv")  # a week: read
    assert load_trace("csv", path=ok).interval_s == 604800.0


def test_unix_epoch_times_are_still_read(tmp_path: Path) -> None:
    p = _csv(tmp_path, HEADER + "a,1700000000,0.1\na,1700000300,0.2\n", "t.csv")
    trace = load_trace("csv", path=p)
    assert trace.interval_s == 300.0
    assert trace.n_samples == 2


def test_planetlab_and_bitbrains_say_a_file_is_not_a_folder(tmp_path: Path) -> None:
    f = _csv(tmp_path, HEADER + "a,0,0.1\n")
    for read in (read_planetlab, read_bitbrains):
        with pytest.raises(ConfigError) as exc:  # was "no such folder"
            read(f)
        assert _messages(exc) == (f"path: {f}: is a file, not a folder (pass the folder "
                                  "holding one file per VM)")
    with pytest.raises(ConfigError) as exc:
        read_planetlab(tmp_path / "nope")
    assert _messages(exc) == f"path: {tmp_path / 'nope'}: no such folder"
