"""Checkpoints of the older layout (before label heads were data), converted as they load.

That layout wrote one ``<prefix>_labels`` list per head into ``config.json`` and ``<prefix>_head.weight``
and ``<prefix>_head.bias`` into the weights, in the order of the ``labels`` section of its
``train_config.yaml``, which names the heads. Nothing here knows what the heads are called: a ``*_labels``
list belongs to the head of that ``labels`` section with the same label names (else, to the head in the
same position), and ``<prefix>_head`` weights to the head of ``<prefix>_labels``.
"""

from __future__ import annotations

from pathlib import Path

from factattr.errors import CheckpointError

_LIST = "_labels"


def is_legacy(raw_config: object) -> bool:
    """True for a ``config.json`` of the older layout (label lists as ``*_labels`` fields, no ``labels``)."""
    return isinstance(raw_config, dict) and "labels" not in raw_config and any(
        isinstance(key, str) and key.endswith(_LIST) for key in raw_config)


def _pairs(raw_config: dict, train_raw: dict, path: Path | None = None) -> list[tuple[str, str]]:
    """``(head, old prefix)`` in head order, or a CheckpointError saying why the files cannot be paired."""
    prefixes = [key[: -len(_LIST)] for key in raw_config if key.endswith(_LIST)]
    heads = list(train_raw.get("labels") or {})
    if len(heads) != len(prefixes):
        where = f"{path}: " if path else ""
        raise CheckpointError(f"{where}a checkpoint of the older layout whose config.json has {len(prefixes)} label "
                              f"lists but whose train_config.yaml names {len(heads)} heads ({heads}); it cannot be "
                              "converted: restore both files as factattr train wrote them, or retrain")
    names = {head: [l.get("name") if isinstance(l, dict) else l for l in train_raw["labels"][head] or []]
             for head in heads}
    by_content = {prefix: [h for h in heads if names[h] == raw_config[f"{prefix}{_LIST}"]] for prefix in prefixes}
    if all(len(found) == 1 for found in by_content.values()) and len({f[0] for f in by_content.values()}) == len(heads):
        return [(by_content[prefix][0], prefix) for prefix in prefixes]
    return list(zip(heads, prefixes))


def legacy_model_config(raw_config: dict, train_raw: dict, path: Path) -> dict:
    """The older ``config.json`` in today's form: ``labels`` and ``descriptions`` per head."""
    pairs = _pairs(raw_config, train_raw, path)
    data = {key: value for key, value in raw_config.items()
            if not key.endswith(_LIST) and key not in ("format_version", "extra")}
    data["window_length"] = data.pop("max_length", None)
    data["labels"] = {head: raw_config[f"{prefix}{_LIST}"] for head, prefix in pairs}
    data["descriptions"] = {head: [label.get("description", "") if isinstance(label, dict) else ""
                                   for label in train_raw["labels"][head] or []] for head, _ in pairs}
    return data


def legacy_state(raw_config: dict, train_raw: dict, state: dict) -> dict:
    """The older weights under today's names: ``<prefix>_head.*`` becomes ``heads.<head>.*``."""
    renames = {f"{prefix}_head.": f"heads.{head}." for head, prefix in _pairs(raw_config, train_raw)}
    out = {}
    for key, tensor in state.items():
        old = next((o for o in renames if key.startswith(o)), None)
        out[renames[old] + key[len(old):] if old else key] = tensor
    return out
