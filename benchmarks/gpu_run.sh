#!/usr/bin/env bash
# The GPU checks and timings in one call, on a CUDA machine with torch but no package index
# (a lent benchmark machine). Prepared beforehand by `make gpu-prep` on a machine with the project
# installed and PyPI reachable: e5-small packed into .devcarry/ (benchmarks/gpu_pack.py, ~15 MB) and
# the cp312 wheels the GPU image lacks (pydantic, fastapi, uvicorn, peft...) in .whl/, both git-ignored.
# Then run from the repository root with .devcarry and .whl alongside; results go to $OUT
# (default benchmarks/results/gpu/): env.txt, pytest.txt, gpu_sweep_cuda.{json,md}, score.txt.
# A dry run of the whole script on CPU, in a checkout with .venv (the GPU tests then skip):
#   PY=.venv/bin/python DEVICE=cpu SENTENCES=600 SCORE_SENTENCES=2000 SITE=none bash benchmarks/gpu_run.sh
set -uo pipefail
export PYTHONUNBUFFERED=1 DIPLOTAG_HOME=/tmp/diplotag-home TOKENIZERS_PARALLELISM=true
OUT=${OUT:-benchmarks/results/gpu} PY=${PY:-python3} DEVICE=${DEVICE:-cuda} SITE=${SITE:-/tmp/site}
SENTENCES=${SENTENCES:-20000} SCORE_SENTENCES=${SCORE_SENTENCES:-100000}
export DIPLOTAG_DEVICE=$DEVICE
mkdir -p "$OUT"
step() { echo "== $* ($(date +%T))"; }

step environment
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee "$OUT/env.txt"
$PY -c "import torch, transformers, tokenizers; print('torch', torch.__version__, 'transformers', transformers.__version__, 'tokenizers', tokenizers.__version__)" | tee -a "$OUT/env.txt"
echo "cpu cores: $(nproc)" | tee -a "$OUT/env.txt"

step install
if [ "$SITE" != none ]; then
  if compgen -G ".whl/*.whl" >/dev/null; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl || exit 1
  fi
  export PYTHONPATH=$SITE
  $PY -m pip install -q --no-index --no-deps --no-build-isolation --no-cache-dir --target "$SITE" . || exit 1
fi
$PY -c "import diplotag, peft, fastapi; print('diplotag', diplotag.__version__, 'peft', peft.__version__)" || exit 1

step base and default model
$PY benchmarks/gpu_pack.py unpack .devcarry/e5-small-bench.bin.xz /tmp/e5-small-bench.bin || exit 1
$PY - <<'EOF' || exit 1
import logging, time
from pathlib import Path
from diplotag import paths
from diplotag.model.default_model import assemble_shipped
from diplotag.model.e5_convert import build_e5_small
logging.basicConfig(level=logging.INFO)
t0 = time.perf_counter()
build_e5_small(paths.bases_dir() / "e5-small", weights_path=Path("/tmp/e5-small-bench.bin"), progress=False, verify=False)
assemble_shipped(paths.default_model_dir())
print(f"base + default model in {time.perf_counter() - t0:.1f} s")
EOF
MODEL="$DIPLOTAG_HOME/models/default"

step gpu tests
DIPLOTAG_GPU_MODEL_HOME="$DIPLOTAG_HOME" timeout 240 $PY -m pytest -q -p no:cacheprovider -m gpu tests/test_gpu.py 2>&1 | tail -15 | tee "$OUT/pytest.txt"

step sweep
timeout 300 $PY benchmarks/gpu_sweep.py --device "$DEVICE" --model "$MODEL" --out "$OUT" --sentences "$SENTENCES" 2>&1 | grep -v Warning

step diplotag score, $SCORE_SENTENCES sentences, cache off
$PY - "$SCORE_SENTENCES" <<'EOF'
import sys
from pathlib import Path
sys.path.insert(0, "benchmarks")
from bench import corpus_articles
from score_memory import make_input
print(make_input(Path("/tmp/score-in.jsonl"), corpus_articles(), int(sys.argv[1])), "sentences")
EOF
for precision in auto bf16; do
  DIPLOTAG_CACHE_SIZE=0 timeout 120 $PY -c "from diplotag.cli import main; main()" score /tmp/score-in.jsonl \
    -o /tmp/score-out-$precision.jsonl --model "$MODEL" --precision $precision --no-progress --no-text 2>&1 \
    | grep -E "scored|rror" | sed "s/^/$precision: /" | tee -a "$OUT/score.txt"
done
step service on the GPU, one 25-sentence article
timeout 150 $PY - <<'EOF2' 2>&1 | grep -v Warning | tee "$OUT/service.txt"
import json, os, sys
from pathlib import Path
sys.path.insert(0, "benchmarks")
import service_load
from bench import articles_of, corpus_articles
res = service_load.run(Path(os.environ["DIPLOTAG_HOME"]) / "models" / "default", articles_of(corpus_articles(), 25),
                       seconds=4, soak_seconds=15)
print(json.dumps(res))
EOF2
step done
