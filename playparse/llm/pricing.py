"""Prices of the models playparse knows, in one place: US dollars per million tokens.

A model not listed costs nothing here (a local OpenAI-compatible server, for example); its
tokens are still counted.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float


# Published list prices (standard tier, no batch or cache discounts).
PRICES: dict[tuple[str, str], Price] = {
    ("anthropic", "claude-opus-4-1"): Price(15.00, 75.00),
    ("anthropic", "claude-sonnet-4-6"): Price(3.00, 15.00),
    ("anthropic", "claude-sonnet-4-5"): Price(3.00, 15.00),
    ("anthropic", "claude-haiku-4-5"): Price(1.00, 5.00),
    ("openai", "gpt-4.1"): Price(2.00, 8.00),
    ("openai", "gpt-4.1-mini"): Price(0.40, 1.60),
    ("openai", "gpt-4o"): Price(2.50, 10.00),
    ("openai", "gpt-4o-mini"): Price(0.15, 0.60),
}


def price_of(provider: str, model: str | None) -> Price | None:
    if model is None:
        return None
    return PRICES.get((provider, model))


def cost_usd(provider: str, model: str | None, input_tokens: int, output_tokens: int) -> float:
    """What the tokens cost; 0 for a model without a listed price."""
    price = price_of(provider, model)
    if price is None:
        return 0.0
    return (input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok) / 1e6


# Characters per token, roughly, for the languages of printed plays.
CHARS_PER_TOKEN = 4
# The prompt around a chunk (instructions, schema, context), in tokens.
PROMPT_OVERHEAD_TOKENS = 1500


def estimate_tokens(text: str) -> tuple[int, int]:
    """Likely input and output tokens for a chunk: the answer restates the text as JSON."""
    text_tokens = len(text) // CHARS_PER_TOKEN + 1
    return PROMPT_OVERHEAD_TOKENS + text_tokens, text_tokens * 3 // 2
