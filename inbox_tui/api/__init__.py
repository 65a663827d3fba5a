"""Client library for Coder's notifications API (no Textual here).

httpx is first imported here, before any module of this package, for one start-up cost: `import httpx`
also imports httpx's own command-line client (`httpx._main`) whenever click is installed (uvicorn, which
the bundled server uses, brings it), and with it click, pygments and rich (~15-40 ms on every start).
A None in `sys.modules` makes that import fail, and httpx falls back to a stub `httpx.main` (the
`except ImportError` in its `__init__`, httpx 0.28); nothing else in httpx uses `_main`. The block is
lifted again once httpx is loaded, so an explicit `import httpx._main` elsewhere still works.
"""

import sys

_BLOCKED = "httpx._main"
_blocking = "httpx" not in sys.modules and _BLOCKED not in sys.modules
if _blocking:
    sys.modules[_BLOCKED] = None  # type: ignore[assignment]  # None is how the import system blocks a name
try:
    import httpx  # noqa: F401  (loaded here, with the block above; the modules below import it)
finally:
    if _blocking and _BLOCKED in sys.modules and sys.modules[_BLOCKED] is None:
        del sys.modules[_BLOCKED]
