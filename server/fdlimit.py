"""Raise the soft open-files limit to the hard limit at start, as Go programs (Coder included) do.

Every connection is a file descriptor; the common soft default of 1,024 lets a few hundred idle clients
starve everyone else of new connections long before memory or CPU run short.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def raise_open_files_limit() -> int | None:
    """Set RLIMIT_NOFILE's soft limit to its hard limit; log and return the soft limit in effect."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open files limit from %d to %d: %s", soft, hard, exc)
    shown = "unlimited" if soft == resource.RLIM_INFINITY else str(soft)
    log.info("open files limit: %s", shown)
    return soft
