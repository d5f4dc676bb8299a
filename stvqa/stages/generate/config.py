"""The generate stage's config: slots, category mix, seed, the generator and the template thresholds."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ...config import check_range
from ...errors import ConfigError
from ...llm.config import LLMConfig
from ...pipeline.workers import CORES, WORKERS_FIELD, check_workers
from ...categories import CATEGORIES, PAPER_MIX

MIX_EXAMPLE = "Example: --mix relation=0.5,count=0.25,size=0.25"


def mix_pairs(mix: str | tuple | list) -> tuple[tuple[str, float], ...]:
    """A mix as `--mix` writes it or as a config holds it, as (category, share) pairs."""
    pairs = parse_mix(mix) if isinstance(mix, str) else mix
    return tuple((str(k), float(v)) for k, v in pairs)


def parse_mix(text: str) -> tuple[tuple[str, float], ...]:
    """`"relation=0.5,count=0.25,size=0.25"` -> mix pairs (shares are normalised later).

    Unknown or repeated categories and negative, non-finite or overflowing shares are refused: each of
    them would silently leave only one category.

    >>> parse_mix("relation=1, count=3")
    (('relation', 1.0), ('count', 3.0))
    """
    pairs: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = (s.strip() for s in part.partition("="))
        if name not in CATEGORIES:
            raise ConfigError(f"--mix: unknown category {name!r}", f"Choose from {', '.join(CATEGORIES)}. {MIX_EXAMPLE}")
        if name in pairs:
            raise ConfigError(f"--mix: {name} is given twice", MIX_EXAMPLE)
        try:
            share = float(value)
        except ValueError:
            raise ConfigError(f"--mix: the share of {name} ({value!r}) is not a number", MIX_EXAMPLE) from None
        if not math.isfinite(share) or share < 0:
            raise ConfigError(f"--mix: the share of {name} ({value}) must be a finite number of at least 0", MIX_EXAMPLE)
        pairs[name] = share
    total = sum(pairs.values())
    if not pairs or total <= 0:
        raise ConfigError("--mix gives no category a positive share", MIX_EXAMPLE)
    if not math.isfinite(total):
        raise ConfigError("--mix: the shares are too large to add up", f"Use shares such as 0.5 or 1. {MIX_EXAMPLE}")
    return tuple(pairs.items())


@dataclass(frozen=True)
class Thresholds:
    """The margins an answer must clear, the same for the questions generate writes and the ones verify checks."""

    size_ratio: float = field(default=1.5, metadata={"help": "Size questions need the larger box area to be at least this many times the smaller."})
    position_margin: float = field(default=0.1, metadata={"help": "Orientation questions need the box centres this share of the image apart."})
    distance_ratio: float = field(default=1.5, metadata={"help": "Distance questions need the farther object this many times as far as the nearer."})
    same_ratio: float = field(default=1.15, metadata={"help": "Distance questions answer \"about the same\" when the larger distance is at most this many times the smaller."})
    cell_margin: float = field(default=0.03, metadata={"help": "Instance-location questions need the box centre this share of the image away from a cell border."})
    count_range: tuple[int, int] = field(default=(2, 8), metadata={"cli_type": str, "help": "Counts asked about, inclusive, as LOW..HIGH (e.g. 2..8)."})

    def __post_init__(self) -> None:
        if not 1.0 < self.same_ratio < min(self.size_ratio, self.distance_ratio):
            raise ConfigError(f"--same-ratio {self.same_ratio} must lie between 1 and the size and distance ratios",
                              "Leave a gap between \"about the same\" and a clear difference, e.g. 1.15 and 1.5.")
        object.__setattr__(self, "count_range", parse_range(self.count_range, "--count-range", int))
        low, high = self.count_range
        if not 1 <= low <= high:
            raise ConfigError(f"--count-range {low}..{high} is not a range of counts", "Write it as LOW..HIGH with 1 <= LOW <= HIGH, e.g. 2..8.")


def parse_range(value: str | tuple | list, flag: str, kind: type = float) -> tuple:
    """`"0.125..0.875"` (a flag, a config file) or a pair (a manifest record) -> a pair of numbers."""
    if isinstance(value, str):
        try:
            low, high = (kind(x) for x in value.split(".."))
        except ValueError:
            raise ConfigError(f"{flag} {value!r} is not a range", f"Write it as LOW..HIGH, e.g. {flag} {'2..8' if kind is int else '0.125..0.875'}.") from None
        return low, high
    low, high = value
    return kind(low), kind(high)


@dataclass(frozen=True)
class GenerateConfig:
    generator: str = field(default="template", metadata={
        "help": "Question generator: template (offline, deterministic; answers computed from the graph) or llm (an LLM writes them from the graph; see --model)."})
    per_image: int = field(default=3, metadata={"help": "Question slots per image."})
    mix: tuple[tuple[str, float], ...] = field(default=tuple(PAPER_MIX.items()), metadata={
        "cli_type": str, "help": "Category shares, e.g. relation=0.5,count=0.25,size=0.25 (normalised; default: the paper's 50% relation, the rest evenly)."})
    seed: int = field(default=0, metadata={"help": "Seed of every choice: slot categories, phrasings, distractors, option order and the split."})
    thresholds: Thresholds = field(default_factory=Thresholds, metadata={"help": "Margins the answers must clear."})
    llm: LLMConfig | None = field(default=None, metadata={"help": "The endpoint and limits of --generator llm (none for template builds)."})
    workers: int = field(default=CORES, metadata=WORKERS_FIELD)

    def __post_init__(self) -> None:
        check_range("--per-image", self.per_image, 1, 64)
        check_workers("--workers", self.workers)
        object.__setattr__(self, "mix", mix_pairs(self.mix))
        if isinstance(self.llm, dict):
            object.__setattr__(self, "llm", LLMConfig(**self.llm))
        if self.generator != "llm":
            object.__setattr__(self, "llm", None)  # a template build has no endpoint (and its key stays as it was)

    def shares(self) -> dict[str, float]:
        total = sum(v for _, v in self.mix)
        return {k: v / total for k, v in self.mix if v > 0}
