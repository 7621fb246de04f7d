"""One Settings object: environment variables with the DIPLOTAG_ prefix, or a .env file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Device = Literal["auto", "cpu", "cuda"]
Precision = Literal["auto", "int8", "fp32", "bf16", "fp16"]
Compile = Literal["auto", "on", "off"]
Packing = Literal["auto", "on", "off"]


class Settings(BaseSettings):
    """Runtime configuration. CLI options override these; nothing else reads os.environ."""

    model_config = SettingsConfigDict(env_prefix="DIPLOTAG_", env_file=".env", extra="ignore")

    home: Path = Field(
        default=Path("~/.cache/diplotag"),
        description="Where built base encoders and trained models live.",
    )
    model: str | None = Field(
        default=None, description="Model directory to serve; default: the current model in home."
    )
    device: Device = "auto"
    precision: Precision = "auto"
    compile: Compile = Field(default="auto", description=(
        "Compile the encoder with TorchInductor (about 20 s once, then about +20 % sentences/s on CPU bf16). "
        "auto: the service and large `diplotag score` inputs compile, everything else runs eager."))
    packing: Packing = Field(default="auto", description=(
        "Pack several sentences into each encoder row, each attending only to itself (no padding, fewer and "
        "larger matrix products). auto: on CPU (+40 % sentences/s, half the time for one article), off on GPU."))
    batch_size: int | None = Field(default=None, ge=1, le=4096, description=(
        "Sentences per forward batch; unset: 32 on CPU, 256 on a GPU. Packed batches hold up to this many "
        "times 128 tokens."))
    cache_size: int = Field(default=10_000, ge=0, description="Sentences kept in the LRU score cache (0: off).")
    threads: int | None = Field(default=None, ge=1)

    # service
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    api_key: str | None = None
    max_batch_wait_ms: float = Field(default=5.0, ge=0.0)
    max_body_bytes: int = Field(default=2_000_000, ge=1)
    max_chars: int = Field(default=200_000, ge=1)
    max_sentences: int = Field(default=2_000, ge=1)
    max_documents: int = Field(default=100, ge=1)
    watch_index_s: float = Field(default=5.0, ge=0.0,
                                 description="Poll the model index and swap in a newly promoted model (0: off).")

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser().resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
