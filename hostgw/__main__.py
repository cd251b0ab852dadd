"""Entry point for the ``hostgw`` command and ``python -m hostgw``."""

import gc


def start() -> None:
    """Run the command line, with the cyclic garbage collector paused while it loads.

    Loading click and hostgw allocates tens of thousands of objects and frees
    almost none, so every collection during it is wasted, and so is every
    later scan of them: they live as long as the process. They are frozen
    (:func:`gc.freeze`) before the command runs, with collection on again.
    That is about a tenth of what ``hostgw ip`` executes; a long ``watch``
    collects as usual, only not through the frozen start-up objects.
    """
    gc.disable()
    try:
        from hostgw.cli import main

        gc.freeze()
    finally:
        gc.enable()
    main()


if __name__ == "__main__":
    start()
