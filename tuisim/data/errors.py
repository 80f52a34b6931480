"""The one error type of the data package."""

from __future__ import annotations


class DatasetError(ValueError):
    """A dataset cannot be made: a missing or unreadable file, a wrong shape, NaN in the
    data, too few samples for the split, or a key that does not apply. The message is one
    sentence a user can act on; `key` names the [data] key at fault when there is one."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key
