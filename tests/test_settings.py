"""Loading the settings file: an empty file is said, a file that is not settings is refused."""
from __future__ import annotations

import re
from pathlib import Path
import warnings

import pytest

from churnlab.settings import Settings, load_settings


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n# and another\n", "null\n", "~\n", "---\n"])
def test_an_empty_settings_file_gives_the_defaults_with_a_warning(tmp_path, text):
    path = tmp_path / "settings.yaml"
    path.write_text(text)
    with pytest.warns(UserWarning, match=re.escape(f"settings file {path} is empty: the defaults are used")) as caught:
        settings = load_settings(path)
    assert settings == Settings()
    from churnlab.settings import SettingsWarning
    assert [w.category for w in caught] == [SettingsWarning]


def test_a_settings_file_with_settings_or_none_at_all_gives_no_warning(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text("seed: 8  # a comment\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_settings(path).seed == 8
        assert load_settings(None) == Settings()


@pytest.mark.parametrize("text, kind", [("- seed: 8\n", "a list"), ("[]\n", "a list"),
                                        ("42\n", "a single value (int 42)"), ("false\n", "a single value (bool False)"),
                                        ("seed\n", "a single value (str 'seed')"), ("''\n", "a single value (str '')"),
                                        ("0\n", "a single value (int 0)")])
def test_a_settings_file_that_is_not_a_mapping_is_an_error_naming_it(tmp_path, text, kind):
    path = tmp_path / "settings.yaml"
    path.write_text(text)
    expected = f"{path}: settings must be a YAML mapping (key: value lines), got {kind}"
    with pytest.raises(ValueError, match=re.escape(expected)):
        load_settings(path)


def test_a_settings_file_that_is_not_yaml_is_an_error_naming_it(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text("seed: [8\nhorizon_days: 30\n")
    with pytest.raises(ValueError, match=rf"{path}, line 2: settings file is not valid YAML"):
        load_settings(path)


@pytest.mark.parametrize("page, render", [("settings.md", "render_settings"), ("mappings.md", "render_mappings")])
def test_the_settings_and_mappings_pages_are_generated_from_the_models(page, render):
    """docs/settings.md and docs/mappings.md say every key once, from the models: a key added,
    renamed or given another default without regenerating the page fails here."""
    import churnlab.settings_docs as docs

    committed = (Path(__file__).resolve().parents[1] / "docs" / page).read_text(encoding="utf-8")
    assert committed == getattr(docs, render)(), f"regenerate: python -m churnlab.settings_docs {page[:-3]} > docs/{page}"
    assert "|  |" not in committed, "every key has a meaning"


def test_every_settings_key_is_on_the_settings_page():
    import churnlab.settings_docs as docs

    page = docs.render_settings()
    for section, model in Settings.model_fields.items():
        assert f"| `{section}` |" in page
    assert "| `zones.risk_threshold` |" in page and "| `campaigns.proactive[].cadence_days` |" in page
