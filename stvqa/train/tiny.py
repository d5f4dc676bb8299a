"""A tiny random-weight Qwen2.5-VL and its processor, built offline (no hub): what `stvqa train --smoke`,
`stvqa eval` in tests and the test suite train. It has the real architecture, so the whole recipe runs
(processor, image tokens, generation, GRPO loss, saving, reloading) in seconds on a CPU.

Without torchvision, transformers cannot build Qwen2.5-VL's stock processor (its video sub-processor needs
it), so `register_processor()` maps Qwen2.5-VL configs to `ImageTextProcessor`, the same processor without
video. It must run in every process that loads a saved folder; `load_model_and_processor` does it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                  "<|image_pad|>", "<|video_pad|>"]
# Qwen's chat format, with an image part rendered as the vision placeholder the processor expands.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# The tokenizer learns its merges from the words the recipe's prompts and completions are made of.
_CORPUS = [
    "<observe> </observe> <scene> </scene> <think> </think> <answer> </answer>",
    '{"objects": [{"id": "man.1", "bbox": [10, 20, 30, 40]}], "relationships": [{"subject": "man.1", "predicate": "on", "object": "bench.2"}]}',
    "Image size: (56 x 56) (A) left (B) right (C) above (D) below yes no 0 1 2 3 4 5 6 7 8 9",
    "You FIRST observe the image, then visualise the relevant scene graph, think and answer.",
    "Where is the cup relative to the table? How many chairs are there? Which is closer to the camera?",
]


@cache
def processor_class():
    """Qwen2.5-VL's processor with an image processor and a tokenizer only (no video: needs no torchvision)."""
    from transformers import Qwen2_5_VLProcessor

    class ImageTextProcessor(Qwen2_5_VLProcessor):
        @classmethod
        def get_attributes(cls):
            return ["image_processor", "tokenizer"]

        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
            kwargs.pop("video_processor", None)
            super().__init__(image_processor, tokenizer, None, chat_template=chat_template, **kwargs)

    return ImageTextProcessor


@cache
def torchvision_available() -> bool:
    try:
        import torchvision  # noqa: F401
    except Exception:  # a torchvision that does not match torch fails with RuntimeError, not ImportError
        return False
    return True


_REGISTERED: list[Any] = []


def register_processor() -> None:
    """Let `AutoProcessor` load Qwen2.5-VL folders without torchvision (the stock processor is used when it is
    importable). Without this, AutoProcessor silently returns the bare tokenizer and GRPO treats the model as
    text-only."""
    if _REGISTERED or torchvision_available():
        return
    from transformers import AutoProcessor, Qwen2_5_VLConfig

    cls = processor_class()
    AutoProcessor.register(Qwen2_5_VLConfig, cls, exist_ok=True)
    _REGISTERED.append(cls)


def build_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(_CORPUS, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   additional_special_tokens=SPECIAL_TOKENS[1:], chat_template=CHAT_TEMPLATE,
                                   padding_side="left")


def build_processor(max_pixels: int = 56 * 56, min_pixels: int = 28 * 28):
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    image_processor = Qwen2VLImageProcessorPil(size={"shortest_edge": min_pixels, "longest_edge": max_pixels})
    return processor_class()(image_processor=image_processor, tokenizer=build_tokenizer(), chat_template=CHAT_TEMPLATE)


def vision_token_ids(tokenizer) -> dict[str, int]:
    """The config's ids of the image, video and vision start/end tokens, in this tokenizer."""
    return {name: tokenizer.convert_tokens_to_ids(token) for name, token in (
        ("image_token_id", "<|image_pad|>"), ("video_token_id", "<|video_pad|>"),
        ("vision_start_token_id", "<|vision_start|>"), ("vision_end_token_id", "<|vision_end|>"))}


def build_model(tokenizer, seed: int = 0):
    """A random Qwen2.5-VL: hidden 64, 2 text layers, vision depth 2 (about 0.1 M parameters)."""
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    ids = vision_token_ids(tokenizer)
    heads, hidden = 4, 64
    config = Qwen2_5_VLConfig(
        text_config={"vocab_size": len(tokenizer), "hidden_size": hidden, "intermediate_size": 128, "num_hidden_layers": 2,
                     "num_attention_heads": heads, "num_key_value_heads": 2, "max_position_embeddings": 2048,
                     # mrope sections (temporal, height, width) must sum to head_dim / 2
                     "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
                     "bos_token_id": tokenizer.convert_tokens_to_ids("<|endoftext|>"),
                     "eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.pad_token_id},
        vision_config={"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": hidden,
                       "fullatt_block_indexes": [1], "window_size": 56},
        tie_word_embeddings=True, **ids,
    )
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def build_tiny(out: Path | str, seed: int = 0, max_pixels: int = 56 * 56) -> Path:
    """Save a tiny model and processor to `out` (loadable with `AutoModelForImageTextToText`/`AutoProcessor`
    after `register_processor()`)."""
    out = Path(out)
    processor = build_processor(max_pixels=max_pixels)
    model = build_model(processor.tokenizer, seed)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out
