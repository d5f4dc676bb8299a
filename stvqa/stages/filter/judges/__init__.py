"""Judges of the filter stage: a model answers each question `k` times, and the answers are compared with
the question's own.

* `vlm`: a vision model with the image: `consistency` = share of tries that agree (the paper's check);
* `blind`: the same question without the image: `blind_rate` = share it still gets right (language priors);
* `policy`: the model about to be trained, in the training prompt: `pass_rate` (GRPO learns where it is
  neither 0 nor 1).

`prompt.py` builds the requests (option order rotated per try, image downscaled), `parse.py` reads a reply
back to an option, `run.py` sends them through `stvqa.llm` (concurrency, limits, retries, cache, cost).
"""
