"""The app shell the service worker precaches, and the version that names its cache."""

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

# static files every page needs; none holds personal data
SHELL_FILES = (
    "css/app.css",
    "css/print.css",
    "css/outbox.css",
    "js/htmx-2.0.11.min.js",
    "js/app.js",
    "js/idb-8.0.4.min.js",
    "js/offline-store.js",
    "js/lock.js",
    "js/contract.js",
    "js/offline-pages.js",
    "js/outbox.js",
    "js/sync.js",
    "js/outbox-ui.js",
    "js/outbox-page.js",
    "js/sw-register.js",
    "js/visit-form.js",
    "js/visit-draft.js",
    "js/group-form.js",
    "js/call.js",
    "js/people-search.js",
    "js/reminders.js",
    "js/sw-push.js",
    "icons/clover.svg",
    "icons/clover-180.png",
    "icons/clover-192.png",
    "icons/clover-512.png",
    "icons/clover-maskable-192.png",
    "icons/clover-maskable-512.png",
    "manifest.webmanifest",
)
WORKER_SOURCE = "js/sw.js"
# the shell files the worker itself runs (importScripts), by their hashed URLs
WORKER_IMPORTS = (
    "js/idb-8.0.4.min.js",
    "js/contract.js",
    "js/offline-store.js",
    "js/outbox.js",
    "js/sync.js",
    "js/sw-push.js",
)


def shell_version(*, static_folder: Path, offline_page: str, build: str = "") -> str:
    """A short hash of everything precached: a changed shell is a new worker and cache."""
    digest = hashlib.sha256(build.encode())
    for name in (WORKER_SOURCE, *SHELL_FILES):
        digest.update(name.encode())
        digest.update((static_folder / name).read_bytes())
    digest.update(offline_page.encode())
    return digest.hexdigest()[:16]


def worker_script(
    *,
    static_folder: Path,
    version: str,
    precache: Iterable[str],
    imports: Iterable[str],
    offline_url: str,
    contract_url: str,
) -> str:
    """The service worker's source with the shell it must precache written in front."""
    shell = {
        "version": version,
        "precache": list(precache),
        "imports": list(imports),
        "offline": offline_url,
        "contract": contract_url,
    }
    source = (static_folder / WORKER_SOURCE).read_text(encoding="utf-8")
    return f'"use strict";\nself.CLOVER_SHELL = {json.dumps(shell)};\n{source}'
