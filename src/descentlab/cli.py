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


def _load_data(spec: str, target: str, seed: int, noise: float):
    """A built-in data set by name, or a CSV file by path: ``(x, y, description)``."""
    import os

    from descentlab import datasets

    if spec in datasets.names():
        x, y = datasets.load(spec, seed=seed, noise=noise)
        return x, y, spec
    if os.path.splitext(spec)[1].lower() in (".csv", ".txt") or os.path.exists(spec):
        x, y, info = datasets.load_csv(spec, target=target)
        return x, y, f"{info.name} ({info.samples} rows, {info.features} features)"
    from descentlab.errors import ConfigError, did_you_mean

    raise ConfigError(f"--data {spec!r} is neither a built-in data set nor a CSV file. "
                      f"{did_you_mean(spec, datasets.names())}")


def _cmd_train(args: argparse.Namespace) -> None:
    import numpy as np

    import descentlab as dl
    from descentlab import datasets, optimizers
    from descentlab.errors import ConfigError
    from descentlab.layers import Dense
    from descentlab.models import Sequential

    dl.set_random_seed(args.seed)
    x, y, description = _load_data(args.data, args.target, args.seed, args.noise)
    if args.standardize:
        (x,) = datasets.standardize(x)
    classification = np.issubdtype(y.dtype, np.integer)
    if classification:
        classes = int(y.max()) + 1
        if classes < 2:
            raise ConfigError(f"{description} has a single class; nothing to classify.")
        out_units, out_act, loss = ((1, "sigmoid", "binary_crossentropy") if classes == 2 else
                                    (classes, "softmax", "sparse_categorical_crossentropy"))
    else:
        out_units, out_act, loss = 1, "linear", "mse"
    x_train, x_test, y_train, y_test = datasets.train_test_split(
        x, y, test_size=args.test_size, seed=args.seed, stratify=classification)
    model = Sequential()
    for i, units in enumerate(args.layers):
        model.add(Dense(units, activation=args.activation, kernel_initializer=args.initializer,
                        input_dim=x.shape[1] if i == 0 else None))
    model.add(Dense(out_units, activation=out_act,
                    input_dim=None if args.layers else x.shape[1]))
    optimizer = optimizers.get(args.optimizer)
    if args.learning_rate is not None:
        config = optimizers.serialize(optimizer)
        config["config"]["learning_rate"] = args.learning_rate
        optimizer = optimizers.deserialize(config)
    model.compile(optimizer=optimizer, loss=loss,
                  metrics=["accuracy"] if classification else ["mae"])
    print(f"data: {description}; {len(x_train)} training and {len(x_test)} test samples\n")
    model.summary()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
              validation_split=args.validation_split, verbose=args.verbose)
    scores = model.evaluate(x_test, y_test, verbose=0)
    metric = "accuracy" if classification else "mae"
    print(f"\ntest loss {scores[0]:.4f}, test {metric} {scores[1]:.4f}")
    if args.save:
        model.save(args.save)
        print(f"saved the model to {args.save}")


def _cmd_datasets(args: argparse.Namespace) -> None:
    from descentlab import datasets

    rows = [(d.name, str(d.samples), str(d.features), str(d.classes), d.description)
            for d in datasets.catalog()]
    heads = ("name", "samples", "features", "classes", "description")
    widths = [max(len(r[i]) for r in [heads, *rows]) for i in range(len(heads))]
    for row in [heads, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print("\nAny CSV file works too: descentlab train --data path/to/file.csv --target COLUMN")


def _layer_list(text: str) -> list[int]:
    try:
        units = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths such as 12,8; got {text!r}") from None
    if any(u <= 0 for u in units):
        raise argparse.ArgumentTypeError(f"layer widths must be positive; got {text!r}")
    return units


def _batch_size_arg(text: str) -> int | str:
    if text == "full":
        return text
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or 'full'; got {text!r}") from None


def _float_in(valid, expectation: str):
    """An argparse type: a float for which ``valid(value)`` holds, else one clear line."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not valid(value):
            raise argparse.ArgumentTypeError(f"expected {expectation}; got {text!r}")
        return value

    return parse


_fraction = _float_in(lambda v: 0 <= v < 1, "a number in [0, 1)")
_positive_float = _float_in(lambda v: v > 0, "a positive number")


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

    train = commands.add_parser(
        "train", help="train a Sequential network on a CSV file or a built-in data set",
        description="Train a Dense network chosen by flags, print Keras-style progress and the "
                    "test evaluation. The output layer follows the target: sigmoid + binary "
                    "cross-entropy for 2 classes, softmax + sparse categorical cross-entropy "
                    "for more, linear + mse for a numeric target.",
        epilog="examples:\n  descentlab train --data pima.csv --target diabetes --layers 12,8 "
               "--epochs 100 --batch-size 5\n  descentlab train --data digits --layers 64,32 "
               "--optimizer sgd --learning-rate 0.1 --save digits.dlab",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("--data", default="digits",
                       help="built-in data set name (see 'descentlab datasets') or a CSV path")
    train.add_argument("--target", default="-1",
                       help="CSV target column, by name or index (default: the last column)")
    train.add_argument("--layers", type=_layer_list, default=[12, 8],
                       help="hidden layer widths, comma-separated (default 12,8)")
    train.add_argument("--activation", default="relu", help="hidden activation (default relu)")
    train.add_argument("--initializer", default="glorot_uniform",
                       help="kernel initializer (default glorot_uniform)")
    train.add_argument("--optimizer", default="adam", help="optimizer name (default adam)")
    train.add_argument("--learning-rate", type=_positive_float, default=None,
                       help="learning rate (default: the optimizer's Keras default)")
    train.add_argument("--epochs", type=_positive_int, default=100, help="epochs (default 100)")
    train.add_argument("--batch-size", type=_batch_size_arg, default=32,
                       help="mini-batch size, or 'full' for plain gradient descent (default 32)")
    train.add_argument("--validation-split", type=_fraction, default=0.0,
                       help="fraction of the training data held out for validation")
    train.add_argument("--test-size", type=_fraction, default=0.2,
                       help="fraction held out for the final test (default 0.2)")
    train.add_argument("--standardize", action="store_true",
                       help="scale features to mean 0, std 1")
    train.add_argument("--noise", type=float, default=0.0,
                       help="noise level of generated data sets (xor, circles, ...)")
    train.add_argument("--seed", type=_non_negative_int, default=0, help="random seed")
    train.add_argument("--save", metavar="PATH", help="save the trained model to PATH")
    train.add_argument("--verbose", type=int, choices=(0, 1, 2), default=2,
                       help="0 silent, 1 progress bar, 2 one line per epoch (default)")
    train.set_defaults(func=_cmd_train)

    listing = commands.add_parser(
        "datasets", help="list the built-in data sets with their sizes",
        description="List scikit-learn's bundled data sets and the generated 2-D sets.",
        epilog="example: descentlab datasets",
    )
    listing.set_defaults(func=_cmd_datasets)
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
