"""Parse one PDF or DOCX in a child process with memory, CPU and wall-clock limits.

The parent (`run_sandboxed`) starts `python -m playparse.extraction.sandbox FORMAT MEMORY_MB
CPU_S`, writes the file to its stdin and reads one JSON object from its stdout:
`{"text": ..., "pages": ...}` or `{"error": TYPE, "message": ..., "attributes": {...}}`.
"""

from __future__ import annotations

import asyncio
import json
import math
import resource
import signal
import sys
from pathlib import Path
from typing import Any

from playparse.errors import DocumentError
from playparse.extraction import errors
from playparse.extraction.errors import ExtractionLimitExceeded, UnreadableDocument
from playparse.lifetime import die_with_parent

# The largest text a document may yield; a long play is about 300,000 characters.
MAX_TEXT_CHARS = 20_000_000
# The directory that holds the playparse package: the child runs there so it imports this
# playparse, installed or not, while -E and -s keep the environment's PYTHON* settings out.
_ROOT = Path(__file__).resolve().parents[2]
_STDERR_TAIL = 2000


async def run_sandboxed(
    data: bytes, fmt: str, *, timeout_s: float, memory_mb: int
) -> tuple[str, int | None]:
    """Extract normalised text from a PDF or DOCX in a child process.

    Args:
        data: the file.
        fmt: "pdf" or "docx".
        timeout_s: wall-clock limit; the child is killed when it is reached.
        memory_mb: address space the parsing may add to the interpreter and the input.

    Returns:
        The normalised text and the page count (None for DOCX).

    Raises:
        DocumentError: the child classified the document (encrypted, unreadable and so on), or
            it ran out of time (ExtractionLimitExceeded) or memory (ExtractionLimitExceeded).
        RuntimeError: the child failed for a reason that is not the document's (worth a retry).
    """
    cpu_s = math.ceil(timeout_s) + 1
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-E",
        "-s",
        "-m",
        "playparse.extraction.sandbox",
        fmt,
        str(memory_mb),
        str(cpu_s),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=_ROOT,
    )
    try:
        async with asyncio.timeout(timeout_s):
            stdout, stderr = await process.communicate(data)
    except TimeoutError:
        raise ExtractionLimitExceeded(fmt, limit="time", value=timeout_s) from None
    finally:
        # Also on cancellation (a cancelled Temporal activity): never leave a parser running.
        if process.returncode is None:
            process.kill()
            await process.wait()
    return _result(process.returncode, stdout, stderr, fmt, timeout_s, memory_mb)


def _result(
    code: int | None, stdout: bytes, stderr: bytes, fmt: str, timeout_s: float, memory_mb: int
) -> tuple[str, int | None]:
    tail = stderr[-_STDERR_TAIL:].decode("utf-8", "replace")
    if code == 0:
        try:
            result = json.loads(stdout)
        except ValueError as error:
            raise RuntimeError(f"extraction sandbox wrote no result: {tail}") from error
        if "error" in result:
            raise _rebuild(result)
        return result["text"], result["pages"]
    if code in (-signal.SIGXCPU, -signal.SIGKILL):
        raise ExtractionLimitExceeded(fmt, limit="time", value=timeout_s)
    if "MemoryError" in tail:
        raise ExtractionLimitExceeded(fmt, limit="memory", value=memory_mb)
    if code is not None and code < 0:
        # A parser's native code crashing on crafted input is the document's fault.
        raise UnreadableDocument(fmt, f"the reader crashed ({signal.Signals(-code).name})")
    raise RuntimeError(f"extraction sandbox exited with {code}: {tail}")


def _rebuild(result: dict[str, Any]) -> DocumentError:
    kind = getattr(errors, str(result["error"]), None)
    if not (isinstance(kind, type) and issubclass(kind, DocumentError)):
        kind = DocumentError
    # The child built the message already; skip each class's own constructor.
    error = kind.__new__(kind)
    DocumentError.__init__(error, str(result["message"]))
    error.__dict__.update(result.get("attributes", {}))
    return error


# --- the child -------------------------------------------------------------------------------


def _limit(memory_mb: int, cpu_s: int) -> None:
    in_use = 0
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    in_use = int(line.split()[1]) * 1024
    except OSError:
        pass  # not Linux: the limit then covers the interpreter too
    address_space = in_use + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def _extract(fmt: str, data: bytes) -> dict[str, Any]:
    from playparse.extraction.normalise import normalise_text

    if fmt == "pdf":
        from playparse.extraction.pdf import pdf_to_text

        text, pages = pdf_to_text(data)
    elif fmt == "docx":
        from playparse.extraction.docx import docx_to_text

        text, pages = docx_to_text(data), None
    else:
        raise ValueError(f"the sandbox does not read {fmt!r}")
    text = normalise_text(text)
    if len(text) > MAX_TEXT_CHARS:
        raise errors.DocumentTooLarge(
            f"The document holds {len(text):,} characters of text, more than the "
            f"{MAX_TEXT_CHARS:,} allowed."
        )
    return {"text": text, "pages": pages}


def _error(error: DocumentError) -> dict[str, Any]:
    attributes = {key: value for key, value in vars(error).items() if key != "message"}
    return {"error": error.type, "message": error.message, "attributes": attributes}


def main() -> int:
    """Read a document from stdin, write its text or its error as JSON to stdout."""
    fmt, memory_mb, cpu_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    die_with_parent()
    # Import the parser before the limits so its own size does not count against them.
    if fmt == "pdf":
        import pypdf  # noqa: F401
    elif fmt == "docx":
        import docx  # noqa: F401
    data = sys.stdin.buffer.read()
    _limit(memory_mb, cpu_s)
    try:
        result = _extract(fmt, data)
    except DocumentError as error:
        result = _error(error)
    except MemoryError:
        del data  # room to report it
        result = _error(ExtractionLimitExceeded(fmt, limit="memory", value=memory_mb))
    except RecursionError:
        result = _error(UnreadableDocument(fmt, "its structure is nested too deeply"))
    except ImportError:
        raise  # the installation's fault, not the document's: the worker retries
    except Exception as error:
        # The child reads this one document and nothing else, so whatever else its reader
        # raises is about the document, and another attempt would raise it again.
        reason = f"the reader failed on it ({type(error).__name__}: {error})"
        result = _error(UnreadableDocument(fmt, reason[:300]))
    sys.stdout.buffer.write(json.dumps(result, ensure_ascii=False).encode("utf-8"))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
