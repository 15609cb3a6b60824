"""``report.md``: the evaluation report as Markdown tables, pictures and the worst errors."""

from __future__ import annotations

from factattr.model.spans import FIELDS


def _f(x: float) -> str:
    return f"{x:.3f}"


def _f1_ci(m: dict) -> str:
    """Macro-F1 with its 95% interval."""
    return f"{_f(m['macro_f1'])} [{_f(m['macro_f1_ci95'][0])}, {_f(m['macro_f1_ci95'][1])}]"


def render_markdown(r: dict, labels: dict) -> str:
    al = r["alignment"]
    out = [f"# factattr evaluation: {r['data']}", "",
           f"Checkpoint `{r['checkpoint']}`; {r['n_articles']} articles, {r['n_gold_sentences']} gold sentences; "
           f"segmentation: {r['segmentation']} ({r['n_predicted_sentences']} predicted sentences: {al['exact']} gold "
           f"sentences matched exactly, {al['partial']} aligned with different boundaries, {al['unaligned_gold']} gold "
           f"sentences unaligned (not scored), {al['unaligned_pred']} predicted sentences outside any gold sentence). "
           f"Model scoring time {r['model_seconds']} s ({r['backend']}).", ""]
    out += [f"> {note}" for note in r.get("notes", [])]
    heads = list(labels)
    out += ["## Systems side by side", "",
            "| system | " + " | ".join(f"{h} macro-F1 | {h} acc | {h} weighted-F1" for h in heads) + " |",
            "|---|" + "---:|---:|---:|" * len(heads)]
    for name, system in r["systems"].items():
        out.append(f"| {name} | " + " | ".join(f"{_f1_ci(system[h])} | {_f(system[h]['accuracy'])} | "
                                               f"{_f(system[h]['weighted_f1'])}" for h in heads) + " |")
    for part, entry in r.get("by_origin", {}).items():
        out += ["", f"### {part}: {entry['n_articles']} articles, {entry['n_sentences']} sentences", "",
                "| system | " + " | ".join(f"{h} macro-F1 | {h} acc" for h in heads) + " |",
                "|---|" + "---:|---:|" * len(heads)]
        for name, system in entry["systems"].items():
            out.append(f"| {name} | " + " | ".join(f"{_f1_ci(system[h])} | {_f(system[h]['accuracy'])}" for h in heads)
                       + " |")
        for other, by_head in entry.get("comparisons", {}).items():
            out.append("\nModel minus " + other + ", paired over this part's articles: " + "; ".join(
                f"{head} {c['difference'] * 100:+.1f} [{c['ci95'][0] * 100:+.1f}, {c['ci95'][1] * 100:+.1f}]"
                for head, c in by_head.items()))
    out += ["", "Brackets: 95% bootstrap interval over articles. Macro-F1 averages the labels present in gold or predictions.", "",
            "Model margin over each other system (macro-F1 points):", "", "| system | " + " | ".join(heads) + " |",
            "|---|" + "---:|" * len(heads)]
    for name, margin in r["margins"].items():
        out.append(f"| {name} | " + " | ".join(f"{margin[h] * 100:+.1f}" for h in heads) + " |")
    if r.get("comparisons"):
        out += ["", "## Paired comparison with other checkpoints", "",
                "Model minus each compared checkpoint, on the very same sentences: the macro-F1 difference, its 95% "
                "interval from resampling whole articles (the same resample for both), the share of resamples where "
                "the model is ahead, and the sentences only one of the two gets right.", "",
                "| compared with | head | difference | 95% interval | model ahead | only the model right | only it right |",
                "|---|---|---:|---:|---:|---:|---:|"]
        for name, heads in r["comparisons"].items():
            for head, c in heads.items():
                out.append(f"| {name} | {head} | {c['difference'] * 100:+.1f} | [{c['ci95'][0] * 100:+.1f}, "
                           f"{c['ci95'][1] * 100:+.1f}] | {c['a_ahead']:.0%} | {c['only_a_right']} | {c['only_b_right']} |")
    out += _model_sections(r, labels)
    out += _spans_section(r)
    out += _errors_section(r, heads)
    return "\n".join(out) + "\n"


def _spans_section(r: dict) -> list[str]:
    """Speaker and cue spans of the model and of the rules against the annotated ones, on the aligned
    sentences that have annotations; then speaker linking and the worst span errors."""
    if not r.get("spans"):
        return []
    out = ["", "## Speaker and cue spans", "",
           "| part | system | span | gold | predicted | exact P | exact R | exact F1 | overlap F1 |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    by_origin = r.get("spans_by_origin", {})
    for part in ["all", *by_origin]:
        systems = {"model": r["spans"] if part == "all" else by_origin[part]}
        rules = r.get("spans_baseline") if part == "all" else r.get("spans_baseline_by_origin", {}).get(part)
        systems.update(rules or {})
        for name, scores in systems.items():
            for field, m in scores.items():
                out.append(f"| {part} | {name} | {field} | {m['gold']} | {m['predicted']} | "
                           f"{_f(m['exact']['precision'])} | {_f(m['exact']['recall'])} | {_f(m['exact']['f1'])} | "
                           f"{_f(m['overlap']['f1'])} |")
    out += ["", "The rules mark the reporting cue and the noun phrase beside it in every sentence with a cue "
                "(`factattr.eval.baselines.rule_spans`); exact is the same characters, overlap any shared one."]
    return out + _linking_section(r) + _span_errors_section(r)


def _share(entry: dict) -> str:
    return "-" if entry["share"] is None else f"{_f(entry['share'])} ({entry['right']})"


def _linking_section(r: dict) -> list[str]:
    """How often a pronoun or role speaker named earlier is linked to its naming span or its speaker."""
    if "linking" not in r:
        return []
    out = ["", "### Who pronouns and roles refer to", "",
           "Gold `pronoun` and `role` speakers whose speaker is named earlier in the article: the share whose "
           "predicted speaker refers to a span overlapping the annotated naming span, and to that or any annotated "
           "mention of the same speaker. No predicted speaker or no link counts as wrong.", "",
           "| part | kind | sentences | naming span | right speaker | no link |", "|---|---|---:|---:|---:|---:|"]
    for part, linking in {"all": r["linking"], **r.get("linking_by_origin", {})}.items():
        for kind, m in linking.items():
            out.append(f"| {part} | {kind} | {m['n']} | {_share(m['naming_span'])} | {_share(m['right_speaker'])} | "
                       f"{m['no_link']} |")
    return out


def _cell(text: str | None, limit: int = 60) -> str:
    return "-" if text is None else " ".join(text.split())[:limit].replace("|", "\\|")


def _span_errors_section(r: dict) -> list[str]:
    errors = r.get("span_errors", [])
    out = ["", f"### The model's {len(errors)} most confident span errors", "",
           "Sentences whose predicted speaker or cue is missing, spurious, or shares no character with the "
           "annotated one, by the predicted speaker's score (missed speakers last); the gold sentence's text.", "",
           "| # | sentence | origin | score | speaker: gold | predicted | cue: gold | predicted | text |",
           "|---:|---|---|---:|---|---|---|---|---|"]
    for i, e in enumerate(errors, 1):
        score = "-" if e["score"] is None else f"{e['score']:.2f}"
        marks = " | ".join(f"{_cell(e[f]['gold'])} | {_cell(e[f]['predicted'])}"
                           + (f" ({e[f]['error']})" if e[f]["error"] else "") for f in FIELDS)
        differs = "" if e["same_sentence"] else " (segmented differently by the model)"
        out.append(f"| {i} | {e['article']}#{e['index']} | {e['origin'] or '-'} | {score} | {marks} | "
                   f"{_cell(e['text'], 200)}{differs} |")
    return out


def _model_sections(r: dict, labels: dict) -> list[str]:
    """Per head: the model's per-label table, pictures, confusion matrix and the other systems' per-label F1."""
    out = []
    for head in labels:
        m = r["systems"]["model"][head]
        out += ["", f"## Model, {head}", "", "| label | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
        for label, v in m["per_label"].items():
            out.append(f"| {label} | {_f(v['precision'])} | {_f(v['recall'])} | {_f(v['f1'])} | {v['support']} |")
        out += ["", f"Accuracy {_f(m['accuracy'])}, macro-F1 {_f(m['macro_f1'])}, weighted F1 {_f(m['weighted_f1'])}, "
                    f"expected calibration error {_f(m['calibration']['ece'])}.", "",
                f"![confusion {head}]({r['pictures'][f'confusion_{head}']}) ![reliability {head}]({r['pictures'][f'reliability_{head}']})",
                "", "Confusion matrix (rows gold, columns predicted):", "", "```",
                " " * 20 + "".join(f"{l[:9]:>10}" for l in labels[head])]
        for label, row in zip(labels[head], m["confusion"]):
            out.append(f"{label[:19]:<20}" + "".join(f"{v:>10}" for v in row))
        out += ["```"]
        for name, system in r["systems"].items():
            if name == "model":
                continue
            per = system[head]["per_label"]
            out.append(f"\n{name} per-label F1: " + ", ".join(f"{l} {_f(v['f1'])}" for l, v in per.items()))
    return out


def _errors_section(r: dict, heads: list[str]) -> list[str]:
    out = ["", f"## The model's {len(r['errors'])} most confident errors", ""]
    for i, e in enumerate(r["errors"], 1):
        marks = "; ".join(f"{h}: gold `{e[h]['gold']}` (p={e[h]['gold_probability']:.2f}), predicted `{e[h]['predicted']}` "
                          f"(p={e[h]['probability']:.2f})" for h in heads)
        prev = " ".join(e["previous"].split())
        out += [f"{i}. **{e['article']}#{e['index']}**: {marks}",
                f"   - previous: {prev[:300] or '(first sentence)'}",
                f"   - sentence: {' '.join(e['text'].split())[:400]}"]
    return out
