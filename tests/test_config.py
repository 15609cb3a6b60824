from pathlib import Path

import pytest

from factattr.config import load_config
from factattr.errors import ConfigError, CorpusError

REPO = Path(__file__).resolve().parents[1]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_default_config_loads_with_schema_and_paths():
    config = load_config(REPO / "configs" / "default.yaml")
    assert config.label_names("source") == ["syrian_army", "iraqi_command", "us_coalition", "anonymous_officer", "other", "none"]
    assert len(config.label_names("claim_type")) == 6
    assert all(label.description for label in config.labels["source"])
    written, real = config.data.sources
    assert Path(written.corpus[0]) == REPO / "data" / "corpus.jsonl"
    assert Path(real.annotations[0]) == REPO / "data" / "real" / "annotations.jsonl" and real.optional
    assert Path(real.texts) == (REPO.parent / "shared" / "realtrain" / "articles.jsonl").resolve()
    assert config.model.context is True


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "configs").glob("*.yaml")))
def test_every_shipped_config_loads_and_its_annotation_files_are_in_the_repo(name):
    config = load_config(REPO / "configs" / name)
    for source in config.data.sources:
        for path in [*source.corpus, *source.annotations, *source.spans]:
            assert Path(path).is_file(), f"{name}: source {source.name} names {path}, which is not in the repo"


def test_extends_overrides_single_keys():
    base = load_config(REPO / "configs" / "default.yaml")
    ablation = load_config(REPO / "configs" / "no_context.yaml")
    assert ablation.model.context is False
    assert ablation.training == base.training   # steps hold 12 target sentences in both
    assert base.training.sentences_per_step == 12 and base.training.context_dropout == 0.5
    assert ablation.output_dir.endswith("runs/no_context")


def test_dotted_overrides_are_typed():
    config = load_config(REPO / "configs" / "default.yaml", ["training.lr=3e-5", "model.context=false"])
    assert config.training.lr == pytest.approx(3e-5)
    assert config.model.context is False


def test_unknown_key_names_file_and_key(tmp_path):
    path = write(tmp_path / "bad.yaml", f"extends: {REPO / 'configs' / 'default.yaml'}\ntraining:\n  learning_rate: 0.1\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*\n\s+training\.learning_rate: unknown key"):
        load_config(path)


def test_wrong_type_names_file_and_key(tmp_path):
    path = write(tmp_path / "bad.yaml", f"extends: {REPO / 'configs' / 'default.yaml'}\ntraining:\n  epochs: many\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml(.|\n)*training\.epochs: .*many"):
        load_config(path)


def test_missing_required_key(tmp_path):
    path = write(tmp_path / "bad.yaml", "output_dir: out\n")
    with pytest.raises(ConfigError, match=r"labels: required key is missing"):
        load_config(path)


def test_missing_corpus_file_names_key(tmp_path):
    path = write(tmp_path / "c.yaml", f"extends: {REPO / 'configs' / 'default.yaml'}\ndata:\n  corpus: nowhere.jsonl\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: data\.sources\[0\]\.corpus\[0\] \(source 'written'\): file not "
                                          r"found: .*nowhere\.jsonl"):
        load_config(path)


def test_missing_extended_file(tmp_path):
    path = write(tmp_path / "c.yaml", "extends: absent.yaml\n")
    with pytest.raises(ConfigError, match=r"absent\.yaml: config file not found \(extended by .*c\.yaml\)"):
        load_config(path)


def test_extends_cycle(tmp_path):
    write(tmp_path / "a.yaml", "extends: b.yaml\n")
    write(tmp_path / "b.yaml", "extends: a.yaml\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_config(tmp_path / "a.yaml")


def test_bad_override_syntax():
    with pytest.raises(ConfigError, match="section.key=value"):
        load_config(REPO / "configs" / "default.yaml", ["training.lr"])


def test_duplicate_label_rejected(tmp_path):
    path = write(tmp_path / "c.yaml", f"extends: {REPO / 'configs' / 'default.yaml'}\nlabels:\n  source:\n"
                 "    - {name: a, description: x}\n    - {name: a, description: y}\n")
    with pytest.raises(ConfigError, match=r"labels\.source: .*unique"):
        load_config(path)


def test_label_in_data_but_not_in_schema(tmp_path, corpus_file):
    # A config whose schema lacks a label the corpus uses: loading the data names file, line and label.
    path = write(tmp_path / "c.yaml", f"extends: {REPO / 'configs' / 'tiny.yaml'}\ndata:\n  corpus: {corpus_file}\n"
                 "labels:\n  source:\n    - {name: syrian_army, description: x}\n    - {name: none, description: y}\n")
    config = load_config(path)
    from factattr.data.corpus import load_splits

    with pytest.raises(CorpusError, match=r"synthetic\.jsonl:1: article 'synthetic-000': sentence \d+: unknown source label"):
        load_splits(config)
