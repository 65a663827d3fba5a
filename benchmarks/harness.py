"""Shared pieces of the benchmarks: wrk runs, a bare uvicorn floor, README updates.

Every benchmark prints our figure beside a floor measured in the same run on the same machine.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


@dataclass
class WrkResult:
    """Throughput and latency percentiles (milliseconds) from one wrk run."""

    rps: float
    p50: float
    p99: float
    requests: int
    non_2xx: int


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s)", text)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def need_wrk() -> str:
    """The wrk binary (Debian package `wrk`)."""
    path = shutil.which("wrk")
    if path is None:
        sys.exit("benchmarks need wrk: apt-get install -y wrk")
    return path


def wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    script: str | None = None,
) -> WrkResult:
    """Run wrk with one thread (the server gets the other core) and parse its --latency report."""
    cmd = [need_wrk(), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for key, value in (headers or {}).items():
        cmd += ["-H", f"{key}: {value}"]
    script_file = None
    if script:
        script_file = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
        script_file.write(script)
        script_file.close()
        cmd += ["-s", script_file.name]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if script_file:
        os.unlink(script_file.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # Anchored: "Thread Stats" carries "+/- Stdev" percentages such as "93.50%" that also end in "50%".
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return WrkResult(rps, p50, p99, total, int(bad.group(1)) if bad else 0)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, what: str, within: float = 20.0) -> None:
    """Return once something accepts connections on 127.0.0.1:`port`."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not start")


class BareServer:
    """The floor: a bare uvicorn ASGI app (httptools, uvloop) answering a fixed JSON body."""

    def __init__(self, body: bytes) -> None:
        self.body_file = tempfile.NamedTemporaryFile("wb", delete=False)  # noqa: SIM115
        self.body_file.write(body)
        self.body_file.close()
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> BareServer:
        env = {**os.environ, "BARE_BODY": self.body_file.name, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "benchmarks.bare_asgi:app",
                "--host", "127.0.0.1", "--port", str(self.port),
                "--http", "httptools", "--loop", "uvloop", "--log-level", "warning", "--no-access-log",
            ],
            env=env,
        )  # fmt: skip
        wait_for_port(self.port, "bare server")
        return self

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()
        os.unlink(self.body_file.name)


def update_readme(section: str, text: str) -> None:
    """Replace the block between `<!-- bench:SECTION -->` markers in README with `text`."""
    start, end = f"<!-- bench:{section} -->", f"<!-- /bench:{section} -->"
    content = README.read_text()
    block = f"{start}\n{text.rstrip()}\n{end}"
    if start in content:
        content = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, content, flags=re.S)
    else:
        content = content.rstrip() + "\n\n" + block + "\n"
    README.write_text(content)
