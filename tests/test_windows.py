import random

import pytest

from factattr.model.windows import collate, pack_article

CLS, SEP, PAD = 101, 102, 0


def sentences(lengths):
    return [[1000 + i] * n for i, n in enumerate(lengths)]


def pack(lengths, **kw):
    args = dict(max_length=32, context=True, context_tokens=8, cls_id=CLS, sep_id=SEP)
    args.update(kw)
    return pack_article(sentences(lengths), **args)


@pytest.mark.parametrize("seed", range(20))
def test_every_sentence_is_a_target_exactly_once_and_windows_fit(seed):
    rng = random.Random(seed)
    lengths = [rng.randint(1, 20) for _ in range(rng.randint(1, 40))]
    windows = pack(lengths)
    targets = [s for w in windows for s, t in zip(w.sentences, w.targets) if t]
    assert targets == list(range(len(lengths)))
    for w in windows:
        assert len(w) <= 32 and w.input_ids[0] == CLS and w.input_ids[-1] == SEP
        assert w.sentences == list(range(w.sentences[0], w.sentences[-1] + 1))  # consecutive
        for s, (a, b) in zip(w.sentences, w.spans):
            assert w.input_ids[a:b] == sentences(lengths)[s] and w.input_ids[b] == SEP


def test_short_article_is_one_window():
    windows = pack([3, 4, 5])
    assert len(windows) == 1 and windows[0].targets == [True, True, True]
    assert windows[0].input_ids == [CLS] + [1000] * 3 + [SEP] + [1001] * 4 + [SEP] + [1002] * 5 + [SEP]


def test_long_article_slides_with_context_on_both_sides():
    windows = pack([5] * 12)  # 72 tokens: several windows
    assert len(windows) > 1
    for w in windows[1:-1]:
        first_target = w.targets.index(True)
        last_target = len(w.targets) - 1 - w.targets[::-1].index(True)
        assert first_target > 0, "a middle window starts with context before its targets"
        assert last_target < len(w.targets) - 1, "and ends with context after them"


def test_no_context_puts_each_sentence_alone():
    windows = pack([3, 4, 5], context=False)
    assert [w.sentences for w in windows] == [[0], [1], [2]]
    assert all(w.targets == [True] for w in windows)


def test_overlong_sentence_is_truncated_not_dropped():
    windows = pack([4, 100, 4])
    targets = [s for w in windows for s, t in zip(w.sentences, w.targets) if t]
    assert targets == [0, 1, 2]
    assert max(len(w) for w in windows) == 32


def test_collate_maps_tokens_back_to_sentences():
    windows = pack([5] * 12, article=3)
    batch = collate(windows, PAD)
    assert batch.input_ids.shape[0] == len(windows)
    assert batch.target_keys == [(3, i) for i in range(12)]
    for row, (_, sentence) in enumerate(batch.target_keys):
        positions = (batch.token_target == row).nonzero().tolist()
        assert len(positions) == 5
        for b, t in positions:
            assert batch.input_ids[b, t].item() == 1000 + sentence
    assert (batch.attention_mask.sum(1).tolist() == [len(w) for w in windows])


def test_context_dropout_packs_chosen_articles_alone(tiny_config):
    from factattr.model.checkpoint import build_model
    from factattr.model.inference import encode_articles

    model, tokenizer = build_model(tiny_config.model_copy(update={"encoder": tiny_config.encoder.model_copy(update={"max_length": 256})}))
    text = "The army said it retook Palmyra. It added that 20 were killed. Palmyra is a town."
    spans = [(0, 32), (33, 62), (63, 82)]
    together = encode_articles(tokenizer, model, [text, text], [spans, spans], alone=[False, True])
    assert [(w.article, w.sentences) for w in together] == [(0, [0, 1, 2]), (1, [0]), (1, [1]), (1, [2])]


def test_batches_by_window_count_or_by_sentence_count():
    from factattr.training.train import make_batches

    windows = pack([3] * 4, max_length=16) + pack([3] * 6, context=False)  # several-sentence and one-sentence windows
    order = list(range(len(windows)))
    assert make_batches(order, windows, 2, None) == [order[i:i + 2] for i in range(0, len(order), 2)]
    batches = make_batches(order, windows, 2, 3)
    assert sum(batches, []) == order
    for members in batches[:-1]:
        assert sum(sum(windows[i].targets) for i in members) >= 3
        assert sum(sum(windows[i].targets) for i in members[:-1]) < 3


def test_length_grouped_batches_cover_every_window_once_with_less_padding():
    from factattr.config import TrainingConfig
    from factattr.training.train import epoch_batches

    # As under context dropout: full windows of several sentences mixed with one-sentence windows.
    windows = [w for k in range(300) for w in (pack([6] * 8, max_length=32) if k % 2 else pack([2 + k % 7], context=False))]

    def padded_tokens(batches):
        return sum(len(members) * max(len(windows[i]) for i in members) for members in batches)

    grouped = TrainingConfig(sentences_per_step=6, seed=3)
    plain = grouped.model_copy(update={"group_by_length": False})
    for tc in (grouped, plain):
        batches = epoch_batches(windows, tc, epoch=1)
        assert sorted(i for members in batches for i in members) == list(range(len(windows)))
        assert batches == epoch_batches(windows, tc, epoch=1)            # seeded: the same every time
        assert batches != epoch_batches(windows, tc, epoch=2)            # and reshuffled each epoch
    assert padded_tokens(epoch_batches(windows, grouped, 1)) < 0.9 * padded_tokens(epoch_batches(windows, plain, 1))
