"""Value syntaxes of `inbox-server serve` options, as Coder's CLI spells them.

Each kind turns one string (from a flag, an environment variable or a default) into a Python value and
back, and raises `OptionValueError` with a short reason when the string is not of its syntax.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_TRUE = frozenset({"1", "t", "true", "yes", "on"})
_FALSE = frozenset({"0", "f", "false", "no", "off", ""})


class OptionValueError(ValueError):
    """A value that does not fit its option's syntax; the message says why."""


def parse_duration(text: str) -> float:
    """Go's `time.ParseDuration` (`15s`, `1m30s`, `100ms`, `1.5h`, `0`) in seconds."""
    raw = text.strip()
    sign = -1.0 if raw.startswith("-") else 1.0
    body = raw.lstrip("+-")
    if body == "0":
        return 0.0
    if not body:
        raise OptionValueError(f"invalid duration {text!r}")
    total, pos = 0.0, 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(body):
        raise OptionValueError(f"invalid duration {text!r} (use a number and a unit, e.g. 15s, 1m30s, 500ms)")
    return sign * total


def format_duration(seconds: float) -> str:
    """Seconds as Go prints a `time.Duration` (`1s`, `1m0s`, `2m0s`, `500ms`)."""
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    value = abs(seconds)
    if value < 1:
        millis = value * 1000
        return f"{sign}{millis:g}ms" if millis >= 1 else f"{sign}{value * 1e6:g}µs"
    hours, rest = divmod(value, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.9f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{sign}{int(hours)}h{int(minutes)}m{text}"
    if minutes:
        return f"{sign}{int(minutes)}m{text}"
    return sign + text


def seconds_as_duration(text: str) -> str:
    """Today's flags took plain seconds (`--retry-interval 0.5`): the same value as a duration string."""
    try:
        return format_duration(float(text))
    except ValueError:
        return text  # let the duration kind report it


def parse_bool(text: str) -> bool:
    """Go's strconv.ParseBool (plus yes/no/on/off)."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise OptionValueError(f"invalid boolean {text!r} (use true or false)")


def split_host_port(text: str) -> tuple[str, int]:
    """`host:port`, `[v6]:port` or `:port` into host and port; the port is required."""
    raw = text.strip()
    host, sep, port = raw.rpartition(":")
    if not sep or not port:
        raise OptionValueError(f"{text!r} is not host:port (the port is missing)")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise OptionValueError(f"{text!r}: put an IPv6 address in brackets, e.g. [::1]:3000")
    try:
        number = int(port)
    except ValueError:
        raise OptionValueError(f"{text!r}: port {port!r} is not a number") from None
    if not 0 <= number <= 65535:
        raise OptionValueError(f"{text!r}: port {number} is out of range")
    return host, number


def join_host_port(host: str, port: int) -> str:
    """The inverse of `split_host_port`."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def replace_host(hostport: str, host: str, default_port: int) -> str:
    """Today's `--host`/`--smtp-host`: set the host part, keeping the port (or the old default)."""
    _, _, port = hostport.rpartition(":")
    return join_host_port(host, int(port) if port.isdigit() else default_port)


def replace_port(hostport: str, port: str) -> str:
    """Today's `--port`/`--smtp-port`: set the port part, keeping the host."""
    host, sep, _ = hostport.rpartition(":")
    return f"{host}:{port}" if sep else f"{hostport}:{port}"


def check_url(text: str) -> str:
    """An absolute http(s) URL, or empty."""
    raw = text.strip()
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise OptionValueError(f"{text!r} is not an http:// or https:// URL")
    return raw


def read_secret_file(text: str) -> str:
    """The contents of a password file (trailing newline dropped); missing or world-readable is an error."""
    path = Path(text).expanduser()
    try:
        mode = path.stat().st_mode
        if mode & stat.S_IROTH:
            raise OptionValueError(f"{text} is readable by everyone (chmod 600 or 640 it)")
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except FileNotFoundError:
        raise OptionValueError(f"{text} does not exist") from None
    except OSError as exc:
        raise OptionValueError(f"cannot read {text}: {exc.strerror}") from None


def mask_url_password(url: str) -> str:
    """A connection URL with its password replaced, for logs."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:****@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True, slots=True)
class Kind:
    """One value syntax: its name in `--help` and docs, and its parser."""

    name: str
    seconds_ok: bool = False  # a duration that also takes plain seconds (our own flags always did)

    def parse(self, text: str) -> object:
        """The Python value of `text`."""
        match self.name:
            case "duration":
                seconds = parse_duration(seconds_as_duration(text) if self.seconds_ok else text)
                if seconds < 0:
                    raise OptionValueError(f"{text!r} is negative")
                return seconds
            case "int":
                try:
                    return int(text.strip())
                except ValueError:
                    raise OptionValueError(f"{text!r} is not a whole number") from None
            case "bool":
                return parse_bool(text)
            case "host:port":
                return split_host_port(text) if text.strip() else ("", 0)
            case "url":
                return check_url(text)
            case "string-array":
                return [part.strip() for part in text.split(",") if part.strip()]
            case _:
                return text


STRING = Kind("string")
INT = Kind("int")
BOOL = Kind("bool")
DURATION = Kind("duration")
SECONDS = Kind("duration", seconds_ok=True)
HOST_PORT = Kind("host:port")
URL = Kind("url")
STRING_ARRAY = Kind("string-array")
