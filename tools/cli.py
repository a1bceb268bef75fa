"""What the offline commands (`make plan`, `make openapi`, `make dashboard`) share: running a stack's program
and telling a person, in one line, why it could not run."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

import pulumi

T = TypeVar("T")


class StackError(Exception):
    """The stack could not be run: `code` is the command's exit status, the message its one line."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code

    def report(self) -> int:
        print(f"error: {self}", file=sys.stderr)
        return self.code


def load(build: Callable[[str], T], stack: str) -> T:
    """`build(stack)`, or `StackError`: exit 2 when the stack file is missing, 1 when the config is refused."""
    try:
        return build(stack)
    except FileNotFoundError as error:
        raise StackError(2, f"no stack file: {error.filename}") from None
    except pulumi.RunError as error:
        raise StackError(1, str(error)) from None
