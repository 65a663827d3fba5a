"""Client library for Coder's notifications API (no Textual here).

httpx is imported only when a request is first made (`load_httpx`), not when this package is: the
inbox's first page comes over a plain connection before Textual starts (`inbox_tui.first_page`), so the
first frame does not wait for httpx, httpcore and anyio (~35 ms, issue 11).

`load_httpx` also saves a second cost: `import httpx` imports httpx's own command-line client
(`httpx._main`) whenever click is installed (uvicorn, which the bundled server uses, brings it), and with
it click, pygments and rich (~15-40 ms). A None in `sys.modules` makes that import fail, and httpx falls
back to a stub `httpx.main` (the `except ImportError` in its `__init__`, httpx 0.28); nothing else in
httpx uses `_main`. The block is lifted again once httpx is loaded, so an explicit `import httpx._main`
elsewhere still works.
"""

import sys

_BLOCKED = "httpx._main"


def load_httpx() -> None:
    """Import httpx (once) without its command-line client; modules then `import httpx` as usual."""
    if "httpx" in sys.modules:
        return
    blocking = _BLOCKED not in sys.modules
    if blocking:
        sys.modules[_BLOCKED] = None  # type: ignore[assignment]  # None is how the import system blocks a name
    try:
        import httpx  # noqa: F401  (loaded here, with the block above)
    finally:
        if blocking and _BLOCKED in sys.modules and sys.modules[_BLOCKED] is None:
            del sys.modules[_BLOCKED]
