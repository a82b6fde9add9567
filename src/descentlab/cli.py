"""The ``descentlab`` command: parses arguments and calls the library; nothing else lives here.

A user's mistake (an unknown name, a bad number, a missing file) prints one line and exits with
status 2; ``--debug`` shows the full traceback instead.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from descentlab.errors import DescentLabError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, status 2, as for every user mistake
        self.exit(EXIT_USAGE, f"descentlab: error: {message} (see '{self.prog} --help')\n")


def _cmd_demo(args: argparse.Namespace) -> None:
    import descentlab as dl
    from descentlab import datasets
    from descentlab.layers import Dense
    from descentlab.models import Sequential

    dl.set_random_seed(args.seed)
    x, y = datasets.load_digits()
    x_train, x_test, y_train, y_test = datasets.train_test_split(x, y, test_size=0.25,
                                                                 seed=args.seed)
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels, "
          "10 classes\n")
    model = Sequential()
    model.add(Dense(32, input_dim=64, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
                  metrics=["accuracy"])
    model.summary()
    started = time.perf_counter()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=32, validation_split=0.1,
              verbose=args.verbose)
    seconds = time.perf_counter() - started
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"\nTrained {args.epochs} epochs in {seconds:.2f} s. Test loss {loss:.4f}, "
          f"test accuracy {accuracy:.4f} ({accuracy * 100:.1f} %).")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="descentlab",
        description="See, measure and fix why neural networks fail to train "
                    "(chapter 9 of 모두의 딥러닝: vanishing gradients and optimizers).",
    )
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    demo = commands.add_parser(
        "demo", help="train a small network on the bundled digits data and report test accuracy",
        description="Train Dense(32, relu) -> Dense(10, softmax) with Adam on scikit-learn's "
                    "bundled 8x8 digits and print the summary, progress and test accuracy.",
        epilog="example: descentlab demo --epochs 20 --seed 1",
    )
    demo.add_argument("--epochs", type=_positive_int, default=30, help="epochs (default 30)")
    demo.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default 0)")
    demo.add_argument("--verbose", type=int, choices=(0, 1, 2), default=2,
                      help="0 silent, 1 progress bar, 2 one line per epoch (default)")
    demo.set_defaults(func=_cmd_demo)
    return parser


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        args.func(args)
    except DescentLabError as exc:
        if args.debug:
            raise
        print(f"descentlab: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("descentlab: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
