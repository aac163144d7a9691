"""The ``neuroflow`` command: ``neuroflow lab`` runs the reference lab, ``neuroflow serve``
serves ``.keras`` models.

Expected failures, the ones that come from the machine rather than from a bug
(no dataset, a damaged file, a folder that cannot be written: all ``OSError``; an
optional package that is missing or broken), are reported in one line on stderr with
exit status 1; Ctrl-C exits with 130. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

COMMANDS = {
    "lab": ("neuroflow.lab", "run the Fashion-MNIST lab end to end"),
    "serve": ("neuroflow.serving.command", "serve .keras models with TF Serving's REST API"),
}

EXIT_FAILURE = 1
EXIT_USAGE = 2  # as argparse
EXIT_INTERRUPTED = 130  # as shells report a command ended by SIGINT
# Optional extras whose import error (raised with the pip command that installs them) is a
# setup problem to report in one line, not a bug.
OPTIONAL_PACKAGES = ("tensorboard", "starlette", "uvicorn")


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    if not argv or argv[0] not in COMMANDS:
        problem = "no command given" if not argv else f"unknown command {argv[0]!r}"
        print(f"neuroflow: {problem}\n{_usage()}", file=sys.stderr)
        return EXIT_USAGE
    import importlib

    name = argv[0]
    try:
        module = importlib.import_module(COMMANDS[name][0])
        return module.main(argv[1:])
    except KeyboardInterrupt:
        print(f"\nneuroflow {name}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as error:
        print(f"neuroflow {name}: error: {describe(error)}", file=sys.stderr)
        return EXIT_FAILURE
    except ModuleNotFoundError as error:
        if error.name not in OPTIONAL_PACKAGES:
            raise
        print(f"neuroflow {name}: error: {error}", file=sys.stderr)
        return EXIT_FAILURE


def _usage() -> str:
    lines = ["usage: neuroflow COMMAND [options]", "", "commands:"]
    lines += [f"  {name:<8} {text}" for name, (_, text) in COMMANDS.items()]
    return "\n".join(lines)


def describe(error: OSError) -> str:
    """``error`` as one message: ``file: what went wrong`` when it names a file."""
    if error.strerror and error.filename is not None:
        files = " -> ".join(str(f) for f in (error.filename, error.filename2) if f is not None)
        return f"{files}: {error.strerror}"
    return str(error)


if __name__ == "__main__":
    sys.exit(main())
