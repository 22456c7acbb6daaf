"""The run's shared intermediate results: computed once, served back only while still valid."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import churnlab
from churnlab.report import handoff as work
from churnlab.settings import Settings

from tests.helpers import assert_same_dataset

AS_OF = "2026-03-31"


def test_a_saved_dataset_reads_back_identical_with_its_dtypes(small_demo, tmp_path):
    dataset = churnlab.load_data(small_demo, as_of=AS_OF)
    work.save_dataset(dataset, tmp_path / "copy")
    assert_same_dataset(dataset, work.read_dataset(tmp_path / "copy"))


def test_open_data_validates_once_per_run_folder(small_demo, tmp_path, monkeypatch):
    first = work.open_data(small_demo, AS_OF, out=tmp_path, settings=Settings())
    assert_same_dataset(first, churnlab.load_data(small_demo, as_of=AS_OF))

    def fail(*args, **kwargs):
        raise AssertionError("the data was read and validated again")

    monkeypatch.setattr(work, "open_source", fail)
    assert_same_dataset(first, work.open_data(small_demo, AS_OF, out=tmp_path, settings=Settings()))


def test_open_data_reads_the_source_again_for_another_date_or_changed_files(small_demo, tmp_path):
    source = tmp_path / "tables"
    shutil.copytree(small_demo, source)
    out = tmp_path / "run"
    before = work.open_data(source, AS_OF, out=out, settings=Settings())
    earlier = work.open_data(source, "2026-01-31", out=out, settings=Settings())
    assert earlier.as_of == pd.Timestamp("2026-01-31")
    assert len(earlier["customers"]) < len(before["customers"])

    customers = pd.read_parquet(source / "customers.parquet")
    # a changed export: a few customers fewer (their rows become unknown customers, quarantined)
    customers.iloc[:-10].to_parquet(source / "customers.parquet", index=False)
    after = work.open_data(source, AS_OF, out=out, settings=Settings())
    assert after.fingerprint != before.fingerprint
    assert len(after["customers"]) < len(before["customers"])


def test_without_a_run_folder_nothing_is_kept(small_demo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dataset = work.open_data(small_demo, AS_OF, out=None, settings=Settings())
    work.features_at(dataset, AS_OF, out=None)
    assert list(tmp_path.iterdir()) == []


def test_features_are_built_once_per_date_and_dataset(small_demo, tmp_path, monkeypatch):
    dataset = churnlab.load_data(small_demo, as_of=AS_OF)
    built = []
    real = work.build_features

    def counting(data, day):
        built.append(pd.Timestamp(day).date().isoformat())
        return real(data, day)

    monkeypatch.setattr(work, "build_features", counting)
    first = work.features_at(dataset, AS_OF, out=tmp_path)
    again = work.features_at(dataset, pd.Timestamp(AS_OF), out=tmp_path)
    week_before = work.features_at(dataset, "2026-03-24", out=tmp_path)
    assert built == ["2026-03-31", "2026-03-24"]
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(first, real(dataset, AS_OF))
    pd.testing.assert_frame_equal(week_before, real(dataset, "2026-03-24"))


def test_a_training_set_is_rebuilt_when_its_settings_change(small_demo, tmp_path):
    dataset = churnlab.load_data(small_demo, as_of=AS_OF)
    six = work.training_set(dataset, AS_OF, out=tmp_path, settings=Settings(models={"snapshots": 6}))
    assert six["snapshot"].nunique() == 6
    pd.testing.assert_frame_equal(six, churnlab.build_training_set(dataset, AS_OF, snapshots=6))
    four = work.training_set(dataset, AS_OF, out=tmp_path, settings=Settings(models={"snapshots": 4}))
    assert four["snapshot"].nunique() == 4


def test_results_of_other_churnlab_code_are_not_served_back(small_demo, tmp_path, monkeypatch):
    """A copy made before the package's code changed (an upgrade, an edit of the feature engine)
    is rebuilt, not read back: the keys hold the code's fingerprint."""
    dataset = work.open_data(small_demo, AS_OF, out=tmp_path, settings=Settings())
    work.features_at(dataset, AS_OF, out=tmp_path)
    work.training_set(dataset, AS_OF, out=tmp_path, settings=Settings(models={"snapshots": 3}))
    monkeypatch.setattr(work, "code_fingerprint", lambda: "another version of churnlab")
    calls = []
    for name in ("open_source", "build_features", "build_training_set"):
        real = getattr(work, name)
        monkeypatch.setattr(work, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    dataset = work.open_data(small_demo, AS_OF, out=tmp_path, settings=Settings())
    work.features_at(dataset, AS_OF, out=tmp_path)
    work.training_set(dataset, AS_OF, out=tmp_path, settings=Settings(models={"snapshots": 3}))
    assert calls == ["open_source", "build_features", "build_training_set"]


def test_the_code_fingerprint_changes_with_any_file_of_the_package(tmp_path):
    package = Path(work.__file__).resolve().parents[1]
    assert work.code_fingerprint() == work.folder_fingerprint(package) and len(work.code_fingerprint()) == 64
    copy = tmp_path / "churnlab"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert (copy / "features" / "catalogue.py").is_file()  # the whole package, subpackages too
    assert work.folder_fingerprint(copy) == work.code_fingerprint()
    (copy / "__pycache__").mkdir(exist_ok=True)
    (copy / "__pycache__" / "x.pyc").write_bytes(b"compiled")        # bytecode does not count
    assert work.folder_fingerprint(copy) == work.code_fingerprint()
    catalogue = copy / "features" / "catalogue.py"
    catalogue.write_bytes(catalogue.read_bytes() + b"\n")              # one more byte
    edited = work.folder_fingerprint(copy)
    assert edited != work.code_fingerprint()
    catalogue.rename(copy / "features" / "catalogue2.py")   # a renamed file
    assert work.folder_fingerprint(copy) not in (edited, work.code_fingerprint())


@pytest.mark.parametrize("name", ["dataset.json", "source.key.json"])
def test_a_copy_without_its_key_is_not_trusted(small_demo, tmp_path, monkeypatch, name):
    work.open_data(small_demo, AS_OF, out=tmp_path, settings=Settings())
    (tmp_path / "work" / "shared" / "dataset" / name).unlink()
    calls = []
    real = work.open_source
    monkeypatch.setattr(work, "open_source", lambda *a, **k: calls.append(1) or real(*a, **k))
    work.open_data(small_demo, AS_OF, out=tmp_path, settings=Settings())
    assert calls == [1]


def test_a_lazily_read_table_is_refused_once_the_copy_was_replaced(small_demo, tmp_path):
    source = tmp_path / "tables"
    shutil.copytree(small_demo, source)
    out = tmp_path / "run"
    work.open_data(source, AS_OF, out=out, settings=Settings())
    opened = work.open_data(source, AS_OF, out=out, settings=Settings())  # the copy, tables not read yet
    assert isinstance(opened.tables, work.SavedTables)
    customers = opened["customers"]  # read now
    pd.read_parquet(source / "customers.parquet").iloc[:-10].to_parquet(source / "customers.parquet", index=False)
    work.open_data(source, AS_OF, out=out, settings=Settings())  # another notebook, other data: a new copy
    assert opened["customers"] is customers  # what was read stays
    with pytest.raises(RuntimeError, match="was replaced since it was opened"):
        opened["usage_events"]


# -- the keyed hand-off between notebooks --------------------------------------------------
def test_a_result_handed_over_comes_back_only_for_the_same_data_date_and_settings(small_demo, tmp_path):
    from churnlab.report.handoff import MissingResult, handoff

    dataset = churnlab.load_data(small_demo, as_of=AS_OF)
    frame = pd.DataFrame({"customer_id": ["C1", "C2"], "churn_probability": [0.1, 0.2]})
    hand = handoff(dataset, tmp_path, settings=Settings())
    assert not hand.has("model_scores")
    hand.put("model_scores", frame)
    assert hand.has("model_scores")
    pd.testing.assert_frame_equal(handoff(dataset, tmp_path, settings=Settings()).take("model_scores"), frame)

    # notebook 05 run by hand a week later: the results of the earlier date are refused, by name
    later = churnlab.load_data(small_demo, as_of="2026-04-07")
    with pytest.raises(MissingResult, match=r"model_scores: the one in .* was made for another as-of date "
                                            r"2026-03-31, not 2026-04-07; run 03_models.ipynb"):
        handoff(later, tmp_path, settings=Settings()).take("model_scores")
    with pytest.raises(MissingResult, match="made for another settings; run 03_models.ipynb"):
        handoff(dataset, tmp_path, settings=Settings(horizon_days=30)).take("model_scores")
    with pytest.raises(MissingResult, match="zones: not found in .*; run 04_value_zones.ipynb"):
        hand.take("zones")
    with pytest.raises(MissingResult, match="out=None keeps nothing between notebooks"):
        handoff(dataset, None, settings=Settings()).take("model_scores")


def test_the_bundle_is_taken_only_with_the_model_scores_of_its_run(small_demo, tmp_path):
    from churnlab.report.handoff import MissingResult, handoff

    dataset = churnlab.load_data(small_demo, as_of=AS_OF)
    hand = handoff(dataset, tmp_path, settings=Settings())
    with pytest.raises(MissingResult, match="model_scores: not found .*run 03_models.ipynb"):
        hand.bundle()
    hand.put("model_scores", pd.DataFrame({"customer_id": ["C1"]}))
    with pytest.raises(MissingResult, match="the model bundle does not load"):
        hand.bundle()
