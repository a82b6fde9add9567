"""The ``descentlab`` command: parses arguments and calls the library; nothing else lives here.

A user's mistake (an unknown name, a bad number, a missing file) prints one line and exits with
status 2; ``--debug`` shows the full traceback instead.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import time
from collections.abc import Sequence
from typing import NoReturn

from descentlab.errors import ConfigError, DescentLabError
from descentlab.lab.results import draw_figures, figures_folder, prepare_folder, save_json

EXIT_USAGE = 2
#: Size limits of the flags, checked while parsing so that the message names the flag:
#: widest hidden layer, deepest network of the vanishing grid (the lab's MAX_DEPTH), most steps
#: on a surface and largest condition number (surfaces' MAX_STEPS, MAX_KAPPA), the number of
#: different whole numbers --task auto takes for classes (datasets' MAX_AUTO_CLASSES), the largest
#: --noise of a generated set (datasets' MAX_NOISE); a test holds them equal to the labs' own.
_MAX_UNITS = 100_000
_MAX_DEPTH = 1000
_MAX_STEPS = 1_000_000
_MAX_KAPPA = 1e12
_MAX_AUTO_CLASSES = 20
_MAX_NOISE = 10.0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, status 2, as for every user mistake
        self.exit(EXIT_USAGE, f"descentlab: error: {message} (see '{self.prog} --help')\n")


def _cmd_demo(args: argparse.Namespace) -> None:
    from descentlab.lab import training

    run = training.prepare("digits", test_size=0.25, seed=args.seed, hidden=(32,))
    print(f"digits: {len(run.x_train)} training and {len(run.x_test)} test images of 8x8 "
          "pixels, 10 classes\n")
    run.model.summary()
    started = time.perf_counter()
    run.fit(epochs=args.epochs, batch_size=32, validation_split=0.1, verbose=args.verbose)
    seconds = time.perf_counter() - started
    loss, accuracy = run.evaluate()
    print(f"\nTrained {args.epochs} epochs in {seconds:.2f} s. Test loss {loss:.4f}, "
          f"test accuracy {accuracy:.4f} ({accuracy * 100:.1f} %).")


def _cmd_train(args: argparse.Namespace) -> None:
    from descentlab import datasets
    from descentlab.lab import training

    if args.save is not None:
        training.check_save_path(args.save)  # before training, so that no model is lost
    run = training.prepare(
        args.data, target=datasets.csv_target(args.data, args.target, flag="--"),
        noise=args.noise, standardize=args.standardize,
        test_size=args.test_size, seed=args.seed, hidden=args.layers,
        activation=args.activation, initializer=args.initializer, optimizer=args.optimizer,
        learning_rate=args.learning_rate, task=args.task, what="--data ")
    print(f"data: {run.description}; {len(run.x_train)} training and {len(run.x_test)} test "
          "samples\n")
    if run.note:
        print(f"{run.note}\n")
    run.model.summary()
    run.fit(epochs=args.epochs, batch_size=args.batch_size,
            validation_split=args.validation_split, verbose=args.verbose)
    loss, metric = run.evaluate()
    print(f"\ntest loss {loss:.4f}, test {run.output.metric} {metric:.4f}")
    if args.save is not None:
        run.model.save(args.save)
        print(f"saved the model to {args.save}")


def _cmd_datasets(args: argparse.Namespace) -> None:
    from descentlab import datasets

    rows = [(d.name, str(d.samples), str(d.features), str(d.classes), d.description)
            for d in datasets.catalog()]
    _print_table(("name", "samples", "features", "classes", "description"), rows)
    print("\nAny CSV file works too: descentlab train --data path/to/file.csv --target COLUMN")


def _print_table(heads: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [heads, *rows]) for i in range(len(heads))]
    for row in [heads, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _num(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _cmd_surfaces(args: argparse.Namespace) -> None:
    import os

    from descentlab.lab import surfaces
    from descentlab.plots import optimizers as plots

    if args.kappa is not None and args.surface != "quadratic":
        raise ConfigError(f"--kappa is the condition number of --surface quadratic; "
                          f"--surface {args.surface} has none (drop --kappa, or use "
                          "--surface quadratic).")
    prepare_folder(args.out)  # a bad --out fails before any work

    names = args.optimizers or (list(surfaces.DLFS_RATES) if args.lr_mode == "dlfs"
                                else list(surfaces.DEFAULT_OPTIMIZERS))
    surface = (surfaces.get(args.surface) if args.kappa is None  # (quadratic: κ = 100)
               else surfaces.ill_conditioned(args.kappa))
    figures_folder(args.out, f"surface_{surface.name}_figures")  # nothing of the user's in it
    result = surfaces.compare(surface, names, steps=args.steps, lr_mode=args.lr_mode,
                              learning_rate=args.learning_rate, flavor=args.flavor)
    json_path = save_json(result, os.path.join(args.out, f"surface_{surface.name}.json"))
    figures = draw_figures(args.out, f"surface_{surface.name}_figures",
                           lambda folder: plots.write_surface_figures(result, folder, args.lang))
    print(f"{surface.formula}: {args.steps} steps from {tuple(result['surface']['start'])}, "
          f"learning rates: {args.lr_mode}, no gradient clipping\n")
    rows = []
    for run in result["trajectories"]:
        status = (f"diverged at step {run['diverged_at']}" if run["diverged_at"] is not None
                  else "")
        rows.append((run["optimizer"], f"{run['learning_rate']:.4g}",
                     _num(run["final_value"], ".4g"), _num(run["final_distance"], ".4g"),
                     str(run["sign_changes"]), status))
    _print_table(("optimizer", "learning rate", "final f", "distance to minimum",
                  f"sign changes ({run['steep_axis']})", ""), rows)
    if "theory" in result:
        th = result["theory"]
        print(f"\ntheory (κ = {th['kappa']:g}): GD at α* = {th['gd_learning_rate']:.4g} "
              f"predicted rate {th['gd_rate']:.4f}, measured {th['gd_measured_rate']:.4f}; "
              f"momentum at α* = {th['momentum_learning_rate']:.4g}, β* = "
              f"{th['momentum_beta']:.4g} predicted {th['momentum_rate']:.4f}, measured "
              f"{th['momentum_measured_rate']:.4f}")
    print(f"\nresults: {json_path}\nfigures: {', '.join(figures)}")


def _cmd_optimizers(args: argparse.Namespace) -> None:
    import os

    from descentlab.lab import optimizers as lab
    from descentlab.plots import optimizers as plots

    prepare_folder(args.out)  # a bad --out fails before any work
    figures_folder(args.out, "optimizers_figures")  # nothing of the user's in it

    results = lab.run(optimizers=args.optimizers or lab.DEFAULT_OPTIMIZERS, seeds=args.seeds,
                      epochs=args.epochs, dataset=args.data, hidden=args.layers,
                      batch_size=args.batch_size, lr_mode=args.lr_mode, schedule=args.schedule,
                      learning_rate=args.learning_rate, target_loss=args.target_loss,
                      workers=args.workers, progress=not args.quiet)
    json_path = lab.save_results(results, os.path.join(args.out, "optimizers.json"))
    figures = draw_figures(args.out, "optimizers_figures",
                           lambda folder: plots.write_data_figures(results, folder, args.lang))
    config = results["config"]
    print(f"\n{config['dataset']}: {len(config['seeds'])} seeds x {config['epochs']} epochs, "
          f"hidden {config['hidden']}, batch {config['batch_size']} (GD: full batch), "
          f"learning rates: {config['lr_mode']}, schedule {config['schedule']}, "
          f"target training loss {config['target_loss']:g}\n")
    rows = []
    for s in results["summary"].values():
        rows.append((s["label"], f"{s['learning_rate']:.3g}", f"{s['final_train_loss']:.4f}",
                     f"{s['final_val_accuracy']:.4f}", _num(s["updates_to_target"], ",.0f"),
                     _num(s["evaluations_to_target"], ",.0f"),
                     _num(s["seconds_to_target"], ".3f"), f"{s['uphill_fraction']:.1%}",
                     f"{s['fluctuation']:.2e}"))
    _print_table(("optimizer", "lr", "train loss", "val acc", "updates→target",
                  "evaluations→target", "s→target", "uphill", "fluctuation"), rows)
    print("\nThe chapter's claims, measured:")
    for claim in results["claims"]:
        mark = {True: "yes", False: "no ", None: "n/a"}[claim["holds"]]
        print(f"  [{mark}] {claim['book_en']}\n        {claim['en']}")
    zig = results["zigzag"]
    print(f"\nzig-zag on {zig['surface']} ({zig['steps']} steps): sign changes of the update "
          f"along y — SGD {zig['sgd_sign_changes']}, momentum {zig['momentum_sign_changes']}")
    print(f"\n{results['timings']['total_seconds']:.1f} s on {results['timings']['workers']} "
          f"workers\nresults: {json_path}\nfigures: {', '.join(figures)}")


def _cmd_report(args: argparse.Namespace) -> None:
    from descentlab.report import build

    started = time.perf_counter()
    if args.from_json:
        results = build.load_results(args.from_json)
        paths = build.write(results, args.out, args.lang)
    else:
        paths = build.build(args.out, lang=args.lang, quick=args.quick, data=args.data,
                            workers=args.workers, progress=not args.quiet)
    print(f"report: {paths['html']}\nnumbers: {paths['json']}\nfigures: {paths['figures']}"
          f"\n({time.perf_counter() - started:.1f} s)")


def _cmd_vanishing(args: argparse.Namespace) -> None:
    import os

    from descentlab import datasets
    from descentlab.lab import vanishing
    from descentlab.plots import vanishing as plots

    target = datasets.csv_target(args.data, args.target, flag="--")
    prepare_folder(args.out)  # a bad --out fails before any work
    figures_folder(args.out, "vanishing_figures")  # nothing of the user's in it

    builtin = args.data in datasets.names()
    data = None
    if not builtin:
        x, y, _ = datasets.load_classification(args.data, target=target)
        data = (x, y)
    results = vanishing.run_grid(
        activations=args.activations, depths=args.depths, initializers=args.initializers,
        seeds=args.seeds, epochs=args.epochs, width=args.width, batch_size=args.batch_size,
        learning_rate=args.learning_rate, batch_norm=args.batch_norm,
        dataset=args.data if builtin else os.path.basename(args.data), data=data,
        workers=args.workers, progress=not args.quiet)
    json_path = vanishing.save_results(results, os.path.join(args.out, "vanishing.json"))
    figures = draw_figures(args.out, "vanishing_figures",
                           lambda folder: plots.write_figures(results, folder, args.lang))
    base = results["configuration"]["base"]
    print(f"\n{base['dataset']}: SGD lr {base['learning_rate']:g}, batch {base['batch_size']}, "
          f"{base['epochs']} epochs, width {base['width']}, seeds "
          f"{','.join(map(str, results['configuration']['seeds']))}\n")
    rows = []
    for record in results["summary"]:
        acc = record["final_test_accuracy"]
        rows.append((record["activation"], record["initializer"], str(record["depth"]),
                     _num(record["ratio_init_geomean"], ".2e"), f"{record['sigmoid_bound']:.2e}",
                     f"{_num(acc['mean'], '.3f')} ± {_num(acc['std'], '.3f')}",
                     "stuck at chance" if record["stuck_at_chance"] else ""))
    _print_table(("activation", "initializer", "hidden layers", "first/last at init", "0.25^L",
                  "test accuracy", ""), rows)
    for trend in results["trends"]:
        if trend["ratio_factor_per_layer"] is not None:
            print(f"  {trend['activation']} ({trend['initializer']}): the first/last ratio is "
                  f"multiplied by {trend['ratio_factor_per_layer']:.3f} per added layer")
    print(f"\n{results['timings']['total_seconds']:.1f} s on "
          f"{results['configuration']['workers']} workers\nresults: {json_path}\n"
          f"figures: {', '.join(figures)}")


def _cmd_playground(args: argparse.Namespace) -> None:
    import socket

    from descentlab.playground import serve
    from descentlab.playground.server import LOOPBACK_HOSTS

    if args.host not in LOOPBACK_HOSTS:
        print(f"descentlab: warning: serving on {args.host}, not on loopback: anyone who can "
              "reach this machine can open the playground and make it train.", file=sys.stderr)
    try:
        with socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET) as probe:
            probe.bind((args.host.strip("[]"), args.port))
    except socket.gaierror as exc:  # the address itself: no such host
        raise ConfigError(f"--host {args.host} cannot be served on ({exc.strerror}); give an "
                          "address of this machine, e.g. 127.0.0.1 (the default).") from None
    except OSError as exc:
        raise ConfigError(f"--port {args.port} on {args.host} cannot be used ({exc.strerror}); "
                          "choose another, e.g. --port 0 for any free port.") from None
    if args.port == 0:
        with socket.socket() as probe:
            probe.bind((args.host, 0))
            args.port = probe.getsockname()[1]
    try:
        serve(host=args.host, port=args.port, open_browser=not args.no_browser, lang=args.lang)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a server is stopped: not an error
    print("descentlab playground: stopped", flush=True)


def _cmd_activations(args: argparse.Namespace) -> None:
    import os

    from descentlab.lab import activations
    from descentlab.plots import vanishing as plots

    prepare_folder(args.out)  # a bad --out fails before any work
    figures_folder(args.out, "activations_figures")  # nothing of the user's in it

    curves = activations.activation_curves(names=args.names) if args.names else \
        activations.activation_curves()
    scales = activations.weight_scale_experiment(seed=args.seed)
    paths = [save_json(curves, os.path.join(args.out, "activation_curves.json")),
             save_json(scales, os.path.join(args.out, "weight_scale.json"))]
    figures = draw_figures(args.out, "activations_figures",
                           lambda folder: plots.write_figures([curves, scales], folder, args.lang))
    rows = []
    for name, entry in curves["functions"].items():
        m = entry["max_derivative"]
        rows.append((name, f"{m['documented']:g}", f"{m['measured']:.6f}", f"{m['at']:g}",
                     "yes" if m["reached"] else "no (approached as x → ∞)"))
    _print_table(("activation", "max f' (formula)", "max f' (measured)", "at x", "reached"),
                 rows)
    print("\nthrough L sigmoid layers the derivative factor is at most 0.25^L: "
          + ", ".join(f"L={d}: {b:.2e}" for d, b in zip(
              curves["sigmoid_product_bound"]["depths"], curves["sigmoid_product_bound"]["bound"],
              strict=True) if d in (1, 3, 5, 10)))
    print(f"\nresults: {', '.join(paths)}\nfigures: {', '.join(figures)}")


def _items(text: str, expected: str) -> list[str]:
    """The comma-separated items of ``text``; an empty one (``a,,b``, ``,``) is a mistake."""
    items = [part.strip() for part in text.split(",")]
    if "" in items:
        raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r} (an empty item)")
    return items


def _name_list(text: str) -> list[str]:
    return [name.lower() for name in _items(text, "comma-separated names")]


def _int_list_in(low: int, high: int | None, expected: str):
    """An argparse type: comma-separated integers in [low, high] (no upper bound if None)."""
    def parse(text: str) -> list[int]:
        try:
            values = [int(part) for part in _items(text, expected)]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}") from None
        if any(v < low for v in values):
            raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}")
        if high is not None and any(v > high for v in values):
            raise argparse.ArgumentTypeError(f"each value must be at most {high:,}; got "
                                             f"{text!r}")
        return values

    return parse


_int_list = _int_list_in(0, None, "comma-separated non-negative integers such as 0,1,2")


def _layer_list(text: str) -> list[int]:
    """Hidden layer widths such as ``12,8``; an empty text means no hidden layer."""
    if not text.strip():
        return []
    try:
        units = [int(part) for part in _items(text, "comma-separated layer widths such as 12,8")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths such as 12,8; got {text!r}") from None
    if any(u <= 0 for u in units):
        raise argparse.ArgumentTypeError(f"layer widths must be positive; got {text!r}")
    if any(u > _MAX_UNITS for u in units):
        raise argparse.ArgumentTypeError(f"layer widths must be at most {_MAX_UNITS:,}; got "
                                         f"{text!r}")
    return units


def _file_path(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("expected a file path; got ''")
    return text


def _batch_size_arg(text: str) -> int | str:
    if text == "full":
        return text
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or 'full'; got {text!r}") from None


def _float_in(valid, expectation: str):
    """An argparse type: a finite float for which ``valid(value)`` holds, else one clear
    line (``inf``, ``nan`` and ``1e309``, which is inf, are never valid)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or not valid(value):
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
    train.add_argument("--target", default=None,
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
    train.add_argument("--noise", type=_float_in(lambda v: 0 <= v <= _MAX_NOISE,
                                                 f"a number in [0, {_MAX_NOISE:g}]"), default=0.0,
                       help="noise level of generated data sets (xor, circles, ...)")
    train.add_argument("--seed", type=_non_negative_int, default=0, help="random seed")
    train.add_argument("--task", choices=("auto", "classification", "regression"),
                       default="auto",
                       help="what a CSV target is: 'auto' (default) classifies text and whole "
                            f"numbers with at most {_MAX_AUTO_CLASSES} different values and "
                            "regresses other numbers (prices, years)")
    train.add_argument("--save", metavar="PATH", type=_file_path,
                       help="save the trained model to PATH")
    train.add_argument("--verbose", type=int, choices=(0, 1, 2), default=2,
                       help="0 silent, 1 progress bar, 2 one line per epoch (default)")
    train.set_defaults(func=_cmd_train)

    report = commands.add_parser(
        "report", help="run the chapter's experiments and write the chapter as an HTML report",
        description="Run the activation, vanishing-gradient and optimizer experiments and "
                    "write DIR/index.html (self-contained: opens with no server and no "
                    "network), the figures as PNG and SVG, and every number in "
                    "DIR/results.json. --from-json rewrites a report from saved numbers "
                    "without training, e.g. in the other language.",
        epilog="examples:\n  descentlab report\n  descentlab report --lang ko --out report-ko\n"
               "  descentlab report --quick --data iris\n"
               "  descentlab report --lang ko --from-json report/results.json --out report-ko",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("--lang", choices=("en", "ko"), default="en",
                        help="language of the report and its figures (default en)")
    report.add_argument("--out", default="descentlab-report",
                        help="output folder (default descentlab-report)")
    report.add_argument("--quick", action="store_true",
                        help="smaller experiments (fewer seeds, depths and epochs)")
    report.add_argument("--data", default="digits",
                        help="built-in data set or CSV path for the experiments on data "
                             "(default digits)")
    report.add_argument("--from-json", metavar="PATH", default=None,
                        help="write the report from a results.json instead of measuring")
    report.add_argument("--workers", type=_positive_int, default=None,
                        help="parallel processes (default: one per CPU core)")
    report.add_argument("--quiet", action="store_true", help="no progress output")
    report.set_defaults(func=_cmd_report)

    van = commands.add_parser(
        "vanishing", help="the vanishing-gradient grid: activation x depth x init x seed",
        description="Train Dense networks of several depths with each activation and "
                    "initializer (plain SGD), measure every layer's gradient norm at "
                    "initialisation and after each epoch, and write vanishing.json (schema "
                    "descentlab.vanishing/1) with figures. Trials run in parallel.",
        epilog="examples:\n  descentlab vanishing\n"
               "  descentlab vanishing --activations sigmoid,relu --depths 2,4,8,16 "
               "--initializers glorot_uniform,he_normal\n"
               "  descentlab vanishing --data iris --epochs 50 --lang ko --out iris-run",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    van.add_argument("--activations", type=_name_list,
                     default=["sigmoid", "tanh", "relu", "softplus"],
                     help="comma-separated (default sigmoid,tanh,relu,softplus)")
    van.add_argument("--depths", default=[1, 3, 5, 10],
                     type=_int_list_in(1, _MAX_DEPTH, "comma-separated positive integers"),
                     help="hidden-layer counts (default 1,3,5,10)")
    van.add_argument("--initializers", type=_name_list, default=["glorot_uniform"],
                     help="kernel initializers (default glorot_uniform)")
    van.add_argument("--seeds", type=_int_list, default=[0, 1, 2],
                     help="seeds (default 0,1,2)")
    van.add_argument("--epochs", type=_positive_int, default=30, help="epochs (default 30)")
    van.add_argument("--width", type=_positive_int_at_most(_MAX_UNITS), default=32,
                     help="units per layer (32)")
    van.add_argument("--batch-size", type=_positive_int, default=32, help="batch size (32)")
    van.add_argument("--learning-rate", type=_positive_float, default=0.1,
                     help="SGD learning rate (default 0.1)")
    van.add_argument("--batch-norm", action="store_true",
                     help="Dense -> BatchNormalization -> activation in every hidden layer")
    van.add_argument("--data", default="digits",
                     help="built-in data set or CSV path (default digits)")
    van.add_argument("--target", default=None, help="CSV target column (default: the last)")
    van.add_argument("--workers", type=_positive_int, default=None,
                     help="parallel processes (default: one per CPU core)")
    _output_arguments(van, "descentlab-out/vanishing")
    van.add_argument("--quiet", action="store_true", help="no progress bar")
    van.set_defaults(func=_cmd_vanishing)

    act = commands.add_parser(
        "activations", help="activation functions, their derivatives and the weight-scale test",
        description="Measure each activation's derivative maximum (sigmoid 0.25, not 0.3) and "
                    "run the weight-scale experiment of Deep Learning from Scratch (ch. 6); "
                    "write JSON and figures.",
        epilog="examples:\n  descentlab activations\n"
               "  descentlab activations --names sigmoid,tanh,relu,softplus --lang ko",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    act.add_argument("--names", type=_name_list, default=None,
                     help="activations to draw (default: sigmoid, tanh, relu, softplus, "
                          "leaky_relu, elu, gelu, silu)")
    act.add_argument("--seed", type=_non_negative_int, default=0,
                     help="seed of the weight-scale experiment (default 0)")
    _output_arguments(act, "descentlab-out/activations")
    act.set_defaults(func=_cmd_activations)

    surf = commands.add_parser(
        "surfaces", help="optimizers stepping on 2-D surfaces: trajectories, theory, zig-zag",
        description="Run optimizers from the same start on a 2-D surface with the engine's own "
                    "optimizer objects; write trajectories (JSON) and contour and loss figures "
                    "(PNG, SVG). No gradient clipping; divergence is marked. Learning rates: "
                    "'shared' (one rate for all), 'tuned' (each optimizer's best rate on a log "
                    "grid 1e-4..10, thirds of a decade, lowest final value) or 'dlfs' (Deep "
                    "Learning from Scratch, ch. 6: SGD 0.95, momentum 0.1, adagrad 1.5, adam "
                    "0.3). On the quadratics the theory of GD and momentum is checked too.",
        epilog="examples:\n  descentlab surfaces --surface dlfs --lr-mode dlfs\n"
               "  descentlab surfaces --surface rosenbrock --lr-mode tuned --steps 500\n"
               "  descentlab surfaces --surface quadratic --kappa 100 --learning-rate 0.01 "
               "--steps 200 --lang ko",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    surf.add_argument("--surface", default="dlfs",
                      help="dlfs, quadratic, rosenbrock, beale, saddle or rastrigin "
                           "(default dlfs: x²/20 + y²)")
    surf.add_argument("--kappa", type=_float_in(lambda v: 1 <= v <= _MAX_KAPPA,
                                                f"a number in [1, {_MAX_KAPPA:g}]"),
                      default=None, help="condition number of --surface quadratic (default 100)")
    surf.add_argument("--optimizers", type=_name_list, default=None,
                      help="comma-separated: sgd, momentum, nag, adagrad, rmsprop, adam, adamw, "
                           "nadam (default: sgd to adam)")
    surf.add_argument("--lr-mode", choices=("shared", "tuned", "dlfs"), default="shared",
                      help="how learning rates are chosen (default shared)")
    surf.add_argument("--learning-rate", type=_positive_float, default=None,
                      help="the shared learning rate (default 0.1)")
    surf.add_argument("--steps", type=_positive_int_at_most(_MAX_STEPS), default=30,
                      help="steps (default 30)")
    surf.add_argument("--flavor", choices=("keras", "pytorch"), default="keras",
                      help="update equations (default keras)")
    _output_arguments(surf, "descentlab-out/surfaces")
    surf.set_defaults(func=_cmd_surfaces)

    opt = commands.add_parser(
        "optimizers", help="GD vs SGD vs momentum, NAG, Adagrad, RMSprop, Adam... on data",
        description="Train the same network from the same initial weights with each optimizer "
                    "and several seeds; measure loss against epochs, gradient evaluations and "
                    "seconds, the cost to reach a target loss, and the fluctuation; judge the "
                    "chapter's claims from the numbers. Writes optimizers.json and figures. "
                    "Learning rates: 'book' (the textbook's table), 'shared' or 'tuned' "
                    "(log grid 1e-4..1, half-decades, lowest training loss after 3 epochs).",
        epilog="examples:\n  descentlab optimizers\n"
               "  descentlab optimizers --optimizers gd,sgd,momentum --seeds 0,1,2,3,4\n"
               "  descentlab optimizers --lr-mode tuned --epochs 10 --lang ko --out run1",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    opt.add_argument("--optimizers", type=_name_list, default=None,
                     help="comma-separated: gd, sgd, momentum, nag, adagrad, rmsprop, adam, "
                          "adamw, nadam (default: all nine)")
    opt.add_argument("--seeds", type=_int_list, default=[0, 1, 2],
                     help="comma-separated seeds (default 0,1,2)")
    opt.add_argument("--epochs", type=_positive_int, default=20, help="epochs (default 20)")
    opt.add_argument("--data", default="digits", help="built-in data set (default digits)")
    opt.add_argument("--layers", type=_layer_list, default=[32],
                     help="hidden layer widths (default 32)")
    opt.add_argument("--batch-size", type=_positive_int, default=32,
                     help="mini-batch size of the stochastic optimizers (default 32)")
    opt.add_argument("--lr-mode", choices=("book", "shared", "tuned"), default="book",
                     help="how learning rates are chosen (default book)")
    opt.add_argument("--learning-rate", type=_positive_float, default=None,
                     help="the shared learning rate (with --lr-mode shared)")
    opt.add_argument("--schedule", default="constant",
                     choices=("constant", "step", "exponential", "inverse_time", "cosine"),
                     help="learning-rate schedule over the run's updates (default constant): "
                          "step ×0.1 at 50%% and 75%%; exponential and inverse_time end at "
                          "a tenth; cosine ends at 0")
    opt.add_argument("--target-loss", type=_positive_float, default=0.3,
                     help="training loss whose cost is measured (default 0.3)")
    opt.add_argument("--workers", type=_positive_int, default=None,
                     help="parallel processes (default: one per CPU core)")
    _output_arguments(opt, "descentlab-out/optimizers")
    opt.add_argument("--quiet", action="store_true", help="no progress bar")
    opt.set_defaults(func=_cmd_optimizers)

    play = commands.add_parser(
        "playground", help="chapter 9 live in the browser: train, compare, watch gradients",
        description="Serve the playground (TensorFlow Playground plus the chapter: every "
                    "optimizer, deep networks, live gradient flow, compare and surfaces modes) "
                    "on this machine and open it in the browser. Ctrl-C stops it.",
        epilog="examples: descentlab playground | descentlab playground --lang ko --port 8080 "
               "--no-browser",
    )
    play.add_argument("--port", type=_port, default=8050,
                      help="port to serve on (default 8050; 0 = any free port)")
    play.add_argument("--host", default="127.0.0.1",
                      help="address to bind (default 127.0.0.1, this machine only)")
    play.add_argument("--no-browser", action="store_true", help="do not open a browser")
    play.add_argument("--lang", choices=("en", "ko"), default="en",
                      help="language of the page (default en; switchable in the page)")
    play.set_defaults(func=_cmd_playground)

    listing = commands.add_parser(
        "datasets", help="list the built-in data sets with their sizes",
        description="List scikit-learn's bundled data sets and the generated 2-D sets.",
        epilog="example: descentlab datasets",
    )
    listing.set_defaults(func=_cmd_datasets)

    from descentlab.sweep.command import add_parser as add_sweep_parser

    add_sweep_parser(commands)  # `descentlab sweep`: its flags live with the sweep package
    return parser


def _output_arguments(parser: argparse.ArgumentParser, default_out: str) -> None:
    """--lang and --out, as every lab command has them."""
    parser.add_argument("--lang", choices=("en", "ko"), default="en",
                        help="language of the figures (default en)")
    parser.add_argument("--out", default=default_out,
                        help=f"output folder (default {default_out})")


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_int_at_most(limit: int):
    """An argparse type: an integer from 1 to ``limit``."""
    def parse(text: str) -> int:
        value = _positive_int(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"expected a positive integer at most {limit:,}, "
                                             f"got {text!r}")
        return value

    return parse


def _port(text: str) -> int:
    value = _non_negative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}")
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
    for stream in (sys.stdout, sys.stderr):
        # A terminal that cannot show a character (ASCII, or cp1252 on Windows when output is
        # redirected) gets '?' for it (box-drawing lines, superscripts, κ, →), not a crash.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")
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
    except BrokenPipeError:
        # The reader went away (`descentlab ... | head`): stop quietly, as Unix tools do.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return 0


if __name__ == "__main__":
    sys.exit(main())
