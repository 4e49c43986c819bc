"""Small real tokenizers built offline for the embedded tiny models (no hub, no downloaded vocab).

``clip_tokenizer`` makes a ``CLIPTokenizer`` (CLIP's byte-level BPE with ``</w>`` word ends) whose
merges are learned from ``CORPUS``; its special tokens sit at the ids the model config names (the
real CLIP's 49406/49407 by default), so the text tower pools at the right position.
``opt_tokenizer`` makes a byte-level BPE in OPT's layout (``<s>``=0, ``<pad>``=1, ``</s>``=2,
``<unk>``=3, BOS ``</s>`` prepended) inside the tiny OPT vocabulary, plus BLIP-2's ``<image>`` token.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

# Caption-like sentences: enough for a few hundred merges, all ASCII so tests stay deterministic.
CORPUS = [
    "a man riding a bike down a city street",
    "a woman is cooking soup in a kitchen",
    "two dogs are running on the beach at sunset",
    "a person playing the guitar on a stage",
    "a group of people dancing at a party",
    "a car driving on a highway in the rain",
    "a child reading a book in the park",
    "a cat sleeping on a sofa next to a window",
    "people walking through a crowded market",
    "a close up of hands typing on a keyboard",
    "a chef slicing vegetables on a wooden board",
    "a football player kicks the ball into the goal",
    "a bird flying over the ocean waves",
    "the camera pans across a mountain landscape with snow",
    "a boy and a girl are playing with a red ball",
    "an old man is sitting on a bench and feeding pigeons",
    "a video of a train arriving at the station",
    "someone is painting a picture of flowers",
    "a skateboarder performs a trick in a skate park",
    "the sun is setting behind the buildings of the city",
    "a woman talking to the camera in a living room",
    "a photo of a dog, a photo of a cat, a photo of a horse",
    "describe the image in detail. this image shows",
    "question: what is happening in the video? answer:",
]


def _learn_merges(words: list[list[str]], max_merges: int) -> list[tuple[str, str]]:
    """Plain BPE: repeatedly merge the most frequent adjacent pair; ties broken by the pair itself, so
    the merges (and the tokenizer) are the same on every build, unlike a hash-ordered trainer."""
    vocab = Counter(tuple(w) for w in words)
    merges: list[tuple[str, str]] = []
    while len(merges) < max_merges:
        pairs: Counter[tuple[str, str]] = Counter()
        for word, count in vocab.items():
            for pair in itertools.pairwise(word):
                pairs[pair] += count
        if not pairs:
            break
        best = max(pairs, key=lambda p: (pairs[p], p))
        merges.append(best)
        vocab = Counter({_merge(word, best): count for word, count in vocab.items()})
    return merges


def _merge(word: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    out: list[str] = []
    i = 0
    while i < len(word):
        if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
            out.append(word[i] + word[i + 1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def _words(pre_tokenizer: Any, normalizer: Any, suffix: str = "") -> list[list[str]]:
    """The corpus split the way the tokenizer splits it, each word as a list of byte-level symbols."""
    words = []
    for line in CORPUS:
        text = normalizer.normalize_str(line) if normalizer else line
        for piece, _ in pre_tokenizer.pre_tokenize_str(text):
            words.append([*piece[:-1], piece[-1] + suffix])
    return words


def clip_tokenizer(bos_id: int = 49406, eos_id: int = 49407, max_length: int = 77) -> Any:
    """A ``CLIPTokenizer`` with CLIP's pre-tokenisation, merges learned from ``CORPUS``."""
    from tokenizers import Regex, normalizers, pre_tokenizers
    from transformers import CLIPTokenizer

    byte_chars = pre_tokenizers.ByteLevel.alphabet()
    base = sorted(byte_chars) + [c + "</w>" for c in sorted(byte_chars)]
    pre = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(
                Regex(r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""),
                behavior="removed",
                invert=True,
            ),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    norm = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    merges = _learn_merges(_words(pre, norm, "</w>"), 600)
    vocab = {t: i for i, t in enumerate(dict.fromkeys(base + ["".join(m) for m in merges]))}
    if len(vocab) >= min(bos_id, eos_id):
        raise ValueError(f"tiny CLIP vocab ({len(vocab)}) collides with special ids {bos_id}/{eos_id}")
    vocab["<|startoftext|>"], vocab["<|endoftext|>"] = bos_id, eos_id
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=max_length)


def opt_tokenizer(vocab_size: int, max_length: int = 128, image_token: str = "<image>") -> Any:
    """An OPT-layout byte-level BPE tokenizer whose ids all fit in ``vocab_size``; adds ``image_token``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["<s>", "<pad>", "</s>", "<unk>", image_token]
    pre = pre_tokenizers.ByteLevel(add_prefix_space=False)
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    merges = _learn_merges(_words(pre, None), vocab_size - len(specials) - len(alphabet))
    tokens = specials + sorted(alphabet) + ["".join(m) for m in merges]
    vocab = {t: i for i, t in enumerate(dict.fromkeys(tokens))}
    if len(vocab) > vocab_size:
        raise ValueError(f"tiny OPT tokenizer has {len(vocab)} tokens, more than the model's {vocab_size}")
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>"))
    tok.pre_tokenizer, tok.decoder = pre, decoders.ByteLevel()
    tok.post_processor = processors.TemplateProcessing(
        single="</s> $A", pair="</s> $A </s> $B", special_tokens=[("</s>", 2)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="</s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        model_max_length=max_length,
        padding_side="left",
    )
    fast.add_special_tokens({"additional_special_tokens": [image_token]})
    return fast
