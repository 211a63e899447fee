"""Runs localstripe on 127.0.0.1 only, keeping its state in memory (no shared pickle file), so that
several stacks can run side by side, with localstripe_compat's today-shaped calls (prices, updates,
idempotency: see that module). Usage: python localstripe_loopback.py PORT"""
import sys

from aiohttp import web
from localstripe import resources
from localstripe.server import app

resources.Store.dump_to_disk = lambda self: None
resources.Store.try_load_from_disk = lambda self: None

import localstripe_compat  # noqa: E402  (after the Store patch; lives next to this file)

localstripe_compat.install(app)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
