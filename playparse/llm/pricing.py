"""Prices of the models playparse knows, in one place: US dollars per million tokens.

A model not listed costs nothing here (a local OpenAI-compatible server, for example); its
tokens are still counted, and a job for it cannot have a budget in dollars (the API says so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float


# Published list prices (standard tier, no batch or cache discounts).
PRICES: dict[tuple[str, str], Price] = {
    ("anthropic", "claude-opus-4-7"): Price(5.00, 25.00),
    ("anthropic", "claude-opus-4-6"): Price(5.00, 25.00),
    ("anthropic", "claude-opus-4-5"): Price(5.00, 25.00),
    ("anthropic", "claude-opus-4-1"): Price(15.00, 75.00),
    ("anthropic", "claude-sonnet-4-6"): Price(3.00, 15.00),
    ("anthropic", "claude-sonnet-4-5"): Price(3.00, 15.00),
    ("anthropic", "claude-haiku-4-5"): Price(1.00, 5.00),
    ("openai", "gpt-5"): Price(1.25, 10.00),
    ("openai", "gpt-5-mini"): Price(0.25, 2.00),
    ("openai", "gpt-5-nano"): Price(0.05, 0.40),
    ("openai", "o3"): Price(2.00, 8.00),
    ("openai", "gpt-4.1"): Price(2.00, 8.00),
    ("openai", "gpt-4.1-mini"): Price(0.40, 1.60),
    ("openai", "gpt-4o"): Price(2.50, 10.00),
    # The first snapshot of gpt-4o kept its own, higher price.
    ("openai", "gpt-4o-2024-05-13"): Price(5.00, 15.00),
    ("openai", "gpt-4o-mini"): Price(0.15, 0.60),
}


# A dated snapshot of a listed model ("claude-sonnet-4-5-20250929", "gpt-4.1-2025-04-14")
# costs what the model costs, unless the snapshot is listed with a price of its own.
_SNAPSHOT = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")


def price_of(provider: str, model: str | None) -> Price | None:
    if model is None:
        return None
    return PRICES.get((provider, model)) or PRICES.get((provider, _SNAPSHOT.sub("", model)))


def cost_usd(provider: str, model: str | None, input_tokens: int, output_tokens: int) -> float:
    """What the tokens cost; 0 for a model without a listed price."""
    price = price_of(provider, model)
    if price is None:
        return 0.0
    return (input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok) / 1e6


# Characters per token, on the low side for the languages of printed plays (about 4 for
# English, fewer for Russian), so a budget check errs towards stopping early.
CHARS_PER_TOKEN = 3
# What a vendor adds to a structured-output request of its own (tool-use instructions, the
# schema in its own wording).
VENDOR_OVERHEAD_TOKENS = 400


def estimate_tokens(prompt_chars: int, text_chars: int, lines: int = 0) -> tuple[int, int]:
    """Likely input and output tokens of one chunk request, erring high.

    The input is the whole prompt (instructions, schema, context, text). The answer restates
    the text as JSON items, each with its keys and nulls (about 80 characters per item, and
    a printed line is at most one item).
    """
    output_chars = 2 * text_chars + 80 * lines + 400
    return prompt_chars // CHARS_PER_TOKEN + VENDOR_OVERHEAD_TOKENS, output_chars // CHARS_PER_TOKEN
