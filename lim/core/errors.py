"""PolicyError: the policy file cannot be used (lim/core/policy.py, lim/core/response_days.py)."""

MAX_MESSAGE_CHARS = 400


def one_line(text: str) -> str:
    """The text on one line: control and other invisible characters escaped, at most MAX_MESSAGE_CHARS."""
    text = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "…"


class PolicyError(ValueError):
    """The policy file cannot be used; the message (one line) says what to fix."""

    def __init__(self, message: str):
        super().__init__(one_line(str(message)))
