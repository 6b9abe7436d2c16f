"""Storage in a local folder: the demo and test stand-in for R2."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path
from urllib.parse import quote

from shelfready_core.storage.base import StorageNotFound, run_health_probe
from shelfready_core.storage.keys import validate_key, validate_prefix

logger = logging.getLogger(__name__)

# Stored files are meant to be served (like a public bucket), not private to this user.
_FILE_MODE = 0o644
_TEMP_PREFIX = ".tmp-"


class LocalStorage:
    """Objects are files under `root`; a key's '/' separators become folders."""

    def __init__(self, root: Path, public_base_url: str | None = None) -> None:
        self._root = Path(root).resolve()
        self._public_base_url = public_base_url.rstrip("/") + "/" if public_base_url else None

    @property
    def root(self) -> Path:
        return self._root

    @property
    def description(self) -> str:
        return f"local folder {self._root}"

    def __repr__(self) -> str:
        return f"LocalStorage(root={str(self._root)!r}, public_base_url={self._public_base_url!r})"

    def _path(self, key: str) -> Path:
        return self._root.joinpath(*validate_key(key).split("/"))

    def _key_of(self, path: Path) -> str:
        return path.relative_to(self._root).as_posix()

    def put(self, key: str, data: bytes, content_type: str) -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write a temp file in the same folder, then rename over the target: readers and
        # crashes only ever see the old file or the complete new one.
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=_TEMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp_name, _FILE_MODE)
            os.replace(temp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        logger.debug("Stored %s (%d bytes, %s) in %s", key, len(data), content_type, self._root)
        return self.url(key)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise StorageNotFound(key, self.description) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def url(self, key: str) -> str:
        path = self._path(key)
        if self._public_base_url:
            return self._public_base_url + quote(key)
        return path.as_uri()

    def delete_prefix(self, prefix: str) -> int:
        """Delete files whose key starts with `prefix` (a string prefix, as on S3)."""
        validate_prefix(prefix)
        folder_key = prefix.rpartition("/")[0]
        base = self._root.joinpath(*folder_key.split("/")) if folder_key else self._root
        if not base.is_dir():
            return 0
        deleted = 0
        for dirpath, _dirnames, filenames in os.walk(base, topdown=False):
            folder = Path(dirpath)
            for filename in filenames:
                path = folder / filename
                if not self._key_of(path).startswith(prefix):
                    continue
                path.unlink(missing_ok=True)
                if not filename.startswith(_TEMP_PREFIX):
                    deleted += 1
            # Drop folders the prefix emptied, so the tree does not fill with empty dirs.
            if folder != self._root and (self._key_of(folder) + "/").startswith(prefix):
                with contextlib.suppress(OSError):
                    folder.rmdir()
        logger.debug("Deleted %d objects under %s in %s", deleted, prefix, self._root)
        return deleted

    def check(self) -> None:
        run_health_probe(self)
