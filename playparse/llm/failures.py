"""Provider failures sorted into those worth another attempt and those that are not.

Rate limits (429), overload (529), server errors (5xx), timeouts and dropped connections are
retryable, and the provider's Retry-After sets the next attempt's delay. A bad request, bad
credentials, a forbidden or unknown model (400, 401, 403, 404, 422) and an account out of
credit (OpenAI's 429 `insufficient_quota`, Anthropic's spend limits) fail the job with a
readable reason. Messages name
the provider and the HTTP status, never a key or the document.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from collections.abc import Mapping

import aiohttp
import anthropic
import openai

from playparse.llm.base import ProviderError

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
# A Retry-After beyond this is not waited for inside one attempt's delay.
MAX_RETRY_AFTER_S = 300.0

_REASONS = {
    400: "the provider rejected the request",
    401: "the provider did not accept the API key",
    403: "the API key may not use this model",
    404: "unknown model or endpoint",
    408: "the provider timed out",
    409: "the provider reported a conflict",
    413: "the request was too large for the provider",
    422: "the provider could not process the request",
    429: "rate limited by the provider",
    500: "the provider had an internal error",
    502: "the provider's gateway failed",
    503: "the provider is unavailable",
    504: "the provider's gateway timed out",
    529: "the provider is overloaded",
}


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from Retry-After (seconds or an HTTP date) or retry-after-ms."""
    if not headers:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            wait = _bounded(float(millis) / 1000)
        except ValueError:
            wait = None
        if wait is not None:
            return wait
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = parsed.timestamp() - time.time()
    return _bounded(seconds)


def _bounded(seconds: float) -> float | None:
    """A wait between 0 and MAX_RETRY_AFTER_S; None for "nan", which says nothing."""
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _refused_or_dropped(error: BaseException) -> bool:
    """Whether aiohttp, under an SDK's timeout error, saw a refused or dropped connection.

    The OpenAI SDK's aiohttp transport reports every aiohttp connection error as a connect
    timeout; the cause it chains says which it was.
    """
    cause = error.__cause__
    while cause is not None:
        if isinstance(cause, aiohttp.ClientConnectionError) and not isinstance(
            cause, asyncio.TimeoutError
        ):
            return True
        cause = cause.__cause__
    return False


# Anthropic's codes (error.details.error_code) for a 429 that lasts until someone raises a
# spend limit; its ramp_limit_exceeded is an ordinary rate limit and passes.
_ANTHROPIC_SPEND_LIMITS = frozenset(
    {
        "enforced_spend_limit_reached",
        "contract_spend_limit_reached",
        "linked_organization_spend_limit_reached",
    }
)


def _out_of_credit(error: Exception) -> bool:
    if isinstance(error, openai.APIStatusError):
        return error.code == "insufficient_quota"
    if isinstance(error, anthropic.APIStatusError):
        return error.error_code in _ANTHROPIC_SPEND_LIMITS
    return False


def classify(provider: str, error: Exception) -> ProviderError:
    """The ProviderError for an exception raised by the anthropic or openai SDK."""
    timed_out = isinstance(error, anthropic.APITimeoutError | openai.APITimeoutError)
    if timed_out and not _refused_or_dropped(error):
        return ProviderError(f"{provider}: the request timed out", retryable=True, type="Timeout")
    if isinstance(error, anthropic.APIConnectionError | openai.APIConnectionError):
        # Includes the timeout errors under which aiohttp saw a refused or dropped connection.
        return ProviderError(
            f"{provider}: the connection failed", retryable=True, type="ConnectionFailed"
        )
    if _out_of_credit(error):
        # A 429 that no wait cures: the account has run out of credit or hit its spend limit.
        return ProviderError(
            f"{provider}: HTTP 429: the provider account has no credit left "
            "or has reached its spend limit",
            retryable=False,
            type="QuotaExhausted",
        )
    if isinstance(error, anthropic.APIStatusError | openai.APIStatusError):
        status = error.status_code
        reason = _REASONS.get(status, "the provider answered with an error")
        retryable = status in RETRYABLE_STATUS or status >= 500
        return ProviderError(
            f"{provider}: HTTP {status}: {reason}",
            retryable=retryable,
            retry_after=retry_after(error.response.headers) if retryable else None,
            type=f"Http{status}",
        )
    return ProviderError(
        f"{provider}: unexpected failure ({type(error).__name__})",
        retryable=True,
        type="ProviderFailure",
    )
