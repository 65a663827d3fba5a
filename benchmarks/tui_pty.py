"""A pseudo-terminal for TUI benchmarks: run a Textual app as a user would, with its real Linux driver.

The "terminal" here answers Textual's synchronized-output query, so every frame the app draws arrives
between `ESC[?2026h` and `ESC[?2026l`: the end marker is the moment a repaint has been written. Keys are
bytes written to the pty, as a terminal would send them. Timestamps use time.monotonic(), which is the
same CLOCK_MONOTONIC in every process on Linux, so they compare with the app's own key log.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

SYNC_START = b"\x1b[?2026h"
SYNC_END = b"\x1b[?2026l"
SYNC_QUERY = b"\x1b[?2026$p"
SYNC_REPLY = b"\x1b[?2026;2$y"

KEYS: dict[str, bytes] = {
    "j": b"j",
    "k": b"k",
    "g": b"g",
    "G": b"G",
    "ctrl+d": b"\x04",
    "ctrl+u": b"\x15",
    "down": b"\x1b[B",
    "up": b"\x1b[A",
    "home": b"\x1b[H",
    "end": b"\x1b[F",
    "pagedown": b"\x1b[6~",
    "pageup": b"\x1b[5~",
}


@dataclass
class Frame:
    """One synchronized update: when its start and end bytes were read."""

    start: float
    end: float = 0.0


@dataclass
class Terminal:
    """What the app wrote, with timestamps."""

    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    data: bytearray = field(default_factory=bytearray)


class PtyApp:
    """Run `argv` on a pty of `cols` x `rows` and record every frame."""

    def __init__(self, argv: Sequence[str], *, cols: int = 120, rows: int = 35, env: dict[str, str] | None = None):
        self.argv = list(argv)
        self.cols = cols
        self.rows = rows
        self.env = {**os.environ, **(env or {}), "TERM": "xterm-256color", "COLORTERM": "truecolor"}
        self.env.pop("TEXTUAL", None)
        self.term = Terminal()
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self._master = -1
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._scan_from = 0

    def start(self) -> PtyApp:
        """Spawn the app; returns at once (use wait_for to know when it has drawn)."""
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))
        self._master = master
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            self.argv, stdin=slave, stdout=slave, stderr=slave, env=self.env, start_new_session=True, close_fds=True
        )
        os.close(slave)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        term = self.term
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self._master, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            now = time.monotonic()
            with self._lock:
                term.chunks.append((now, chunk))
                term.data += chunk
                self._scan(now)

    def _scan(self, now: float) -> None:
        data = self.term.data
        start = max(0, self._scan_from - 16)
        while True:
            positions = [(data.find(marker, start), marker) for marker in (SYNC_QUERY, SYNC_START, SYNC_END)]
            found = [(pos, marker) for pos, marker in positions if pos >= 0]
            if not found:
                break
            pos, marker = min(found)
            if marker == SYNC_QUERY:
                os.write(self._master, SYNC_REPLY)
            elif marker == SYNC_START:
                self.term.frames.append(Frame(now))
            elif self.term.frames and not self.term.frames[-1].end:
                self.term.frames[-1].end = now
            start = pos + len(marker)
        self._scan_from = len(data)

    def send(self, key: str) -> float:
        """Write one key as the terminal would; returns the time it was written."""
        data = KEYS.get(key, key.encode())
        now = time.monotonic()
        os.write(self._master, data)
        return now

    def text_since(self, offset: int) -> bytes:
        """Raw output from a byte offset."""
        with self._lock:
            return bytes(self.term.data[offset:])

    def wait_for(self, condition: Callable[[PtyApp], bool], timeout: float = 30.0) -> bool:
        """Poll until condition(self) holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if condition(self):
                    return True
            if self.proc is not None and self.proc.poll() is not None:
                return False
            time.sleep(0.001)
        return False

    def first_frame_with(self, marker: bytes, timeout: float = 30.0) -> float | None:
        """Seconds from spawn until the first frame whose output contains `marker` was fully written.

        The very first frame can come before the app has read the answer to its synchronized-output query,
        so it may carry no frame markers: then the frame ends with the last chunk of the burst of output
        that holds the marker (the writer thread sends a frame in one go).
        """

        def painted(app: PtyApp) -> bool:
            return app._paint_end(marker, settle=False) is not None

        if not self.wait_for(painted, timeout):
            return None
        with self._lock:
            end = self._paint_end(marker, settle=True)
        assert end is not None
        return end - self.started

    def _paint_end(self, marker: bytes, *, settle: bool) -> float | None:
        data = self.term.data
        pos = data.find(marker)
        if pos < 0:
            return None
        seen = 0
        index = 0
        for index, (_, chunk) in enumerate(self.term.chunks):  # noqa: B007 - index is used after the loop
            seen += len(chunk)
            if seen >= pos + len(marker):
                break
        at = self.term.chunks[index][0]
        synced = [f.end for f in self.term.frames if f.end and f.end >= at and f.start <= at]
        if synced:
            return min(synced)
        # No frame markers around it: the burst of chunks ends at the first gap of 5 ms or more.
        last = at
        for stamp, _ in self.term.chunks[index + 1 :]:
            if stamp - last >= 0.005:
                return last
            last = stamp
        if time.monotonic() - last >= 0.05:
            return last
        return None if not settle else last

    def frame_after(self, moment: float, timeout: float = 2.0) -> float | None:
        """End time of the first frame that started after `moment` (None if none came in time)."""

        def done(app: PtyApp) -> bool:
            return any(f.start > moment and f.end for f in app.term.frames)

        if not self.wait_for(done, timeout):
            return None
        with self._lock:
            return min(f.end for f in self.term.frames if f.start > moment and f.end)

    def rss_kb(self) -> tuple[int, int]:
        """(VmRSS, VmHWM) of the app process in KiB."""
        assert self.proc is not None
        values = {"VmRSS": 0, "VmHWM": 0}
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                name, _, rest = line.partition(":")
                if name in values:
                    values[name] = int(rest.split()[0])
        return values["VmRSS"], values["VmHWM"]

    def stop(self) -> None:
        """Terminate the app (by PID) and close the pty."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        if self._master >= 0:
            os.close(self._master)
            self._master = -1


def read_key_log(path: str) -> list[float]:
    """Times (monotonic) at which the app began handling each key, one per line."""
    try:
        with open(path) as log:
            return [float(line.split()[0]) for line in log if line.strip()]
    except FileNotFoundError:
        return []


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]
