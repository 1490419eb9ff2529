"""Exception hierarchy shared by every layer.

Every error a user can meet derives from :class:`OmnicrmError`, so interfaces (CLI, API) catch
one type and print its message instead of a traceback. Messages name the field, the value and
the fix.

Examples
--------
>>> from omnicrm.errors import InputError, OmnicrmError
>>> err = InputError("column 'price': value '-3' is negative; prices must be >= 0")
>>> isinstance(err, (ValueError, OmnicrmError))
True
"""

from __future__ import annotations


class OmnicrmError(Exception):
    """Root of every error raised on purpose by omnicrm."""


class InputError(ValueError, OmnicrmError):
    """Bad input: a file, a column, a value, a flag or a configuration entry.

    The message says which field, which value and how to fix it.
    """


class NotFittedError(ValueError, AttributeError, OmnicrmError):
    """An estimator was used before ``fit`` was called."""


class ConvergenceError(OmnicrmError):
    """A model fit did not converge; the message says what to try."""
