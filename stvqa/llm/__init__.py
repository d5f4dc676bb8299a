"""A client for OpenAI-compatible chat endpoints, for bulk work: many requests in flight, rate limits, retries,
a response cache that makes runs resumable, structured output with fallbacks, usage and cost accounting.

Generic (messages in, text or validated JSON out): the LLM question generator uses it, and so can a judge.
Which parts are the `openai` SDK's and which are ours is said in the README ("LLM generation"). The modules
are `client` (`LLMClient`, `Reply`, `EndpointError`), `cache` (`ResponseCache`), `config` (`LLMConfig`),
`usage` (`Usage`, `estimate_tokens`), `extract` (JSON out of prose), `loop` and `fake_server` (for tests
and benchmarks). Importing this package does not import `openai` (half a second): `stvqa.llm.client` does.
"""
