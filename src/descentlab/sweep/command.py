"""``descentlab sweep``: the search space from flags and/or a config file, then
:func:`~descentlab.sweep.run.run_sweep`, then a table of what it found.

A flag overrides the same setting of ``--config``. A list is comma-separated
(``--optimizers sgd,adam``); a learning-rate range is ``LOW:HIGH:COUNT`` on a log scale
(``1e-4:1:9``: nine rates, 1e-4 … 1) or ``LOW:HIGH`` for a random search; seeds may be a range
(``0-4``). Every value is checked by one validator (:func:`descentlab.sweep.space.check`):
a mistake is one line and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from descentlab.errors import ConfigError

EXAMPLES = """examples:
  descentlab sweep --optimizers sgd,momentum,adam --learning-rate 1e-4:1:9 --seeds 0,1,2
  descentlab sweep --config sweep.toml --ray               # Ray Tune on this machine
  descentlab sweep --config sweep.toml --ray-address HEAD:6379 --early-stopping
  descentlab sweep --config sweep.toml --resume            # finish an interrupted sweep
"""


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register ``sweep`` on the ``descentlab`` command's subparsers."""
    parser = commands.add_parser(
        "sweep", help="search over optimizers, learning rates, … on this machine or a Ray cluster",
        description="Run every trial of a search space (grid or random) — local processes by "
                    "default, Ray Tune with --ray or --ray-address — recording each trial as "
                    "it ends; write results.json, results.csv and the learning-rate "
                    "sensitivity figures.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    space = parser.add_argument_group("search space (each overrides --config)")
    space.add_argument("--config", help="a TOML or JSON file of settings (see docs/sweep.md)")
    space.add_argument("--data", help="built-in data set or CSV path (default digits)")
    space.add_argument("--target", help="CSV target column (default: the last)")
    space.add_argument("--optimizers", help="optimizer names, e.g. sgd,momentum,adam")
    space.add_argument("--learning-rate", metavar="RATES",
                       help="rates 0.01,0.1 or a log range LOW:HIGH:COUNT (1e-4:1:9)")
    space.add_argument("--batch-size", metavar="SIZES", help="sizes, e.g. 32,full")
    space.add_argument("--activation", metavar="NAMES", help="hidden activations, e.g. relu,tanh")
    space.add_argument("--depth", metavar="NS", help="hidden layers, e.g. 1,2,4")
    space.add_argument("--width", metavar="NS", help="units per hidden layer, e.g. 32,64")
    space.add_argument("--initializer", metavar="NAMES", help="kernel initializers")
    space.add_argument("--batch-norm", choices=("off", "on", "both"),
                       help="batch normalisation in the hidden layers")
    space.add_argument("--epochs", metavar="NS", help="epochs, e.g. 20")
    space.add_argument("--seeds", metavar="SEEDS", help="seeds, e.g. 0,1,2 or 0-4")
    space.add_argument("--validation-fraction", type=float,
                       help="share of the data held out for validation (default 0.2)")
    space.add_argument("--search", choices=("grid", "random"), help="grid (default) or random")
    space.add_argument("--samples", type=int, help="random search: configurations to draw")
    space.add_argument("--search-seed", type=int, help="random search: the draw's seed")
    space.add_argument("--metric", choices=("train_loss", "val_loss", "val_accuracy"),
                       help="what 'best' means, and what ASHA compares (default train_loss)")
    space.add_argument("--early-stopping", action="store_true", default=None,
                       help="stop bad trials early with Ray Tune's ASHA (needs Ray)")
    space.add_argument("--grace-period", type=int, help="ASHA: epochs before any stop (2)")
    space.add_argument("--reduction-factor", type=int, help="ASHA: keep 1 in η at a rung (3)")
    run = parser.add_argument_group("where it runs")
    run.add_argument("--workers", type=int,
                     help="trials at once (default: one per core, or the cluster's CPUs)")
    run.add_argument("--ray", action="store_true",
                     help="run on Ray Tune, on a cluster started on 127.0.0.1 for this run")
    run.add_argument("--ray-address", metavar="ADDRESS",
                     help="run on the running Ray cluster at ADDRESS (HOST:PORT or 'auto')")
    run.add_argument("--retries", type=int, default=2,
                     help="retries of a trial whose worker dies (default 2)")
    run.add_argument("--resume", action="store_true",
                     help="continue the sweep in --out, skipping its finished trials")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--lang", choices=("en", "ko"), default="en",
                        help="language of the figures (default en)")
    parser.add_argument("--out", default="sweep_results",
                        help="output folder (default sweep_results)")
    parser.set_defaults(func=run_command)
    return parser


def _items(text: str, flag: str) -> list[str]:
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not item for item in items):
        raise ConfigError(f"{flag} expects values separated by commas; got {text!r}.")
    return items


def _ints(text: str, flag: str, ranges: bool = False) -> list[int]:
    def whole(item: str) -> int:
        try:
            return int(item)
        except ValueError:
            raise ConfigError(f"{flag} expects whole numbers separated by commas; got "
                              f"{text!r}.") from None

    out: list[int] = []
    for item in _items(text, flag):
        if ranges and "-" in item[1:]:
            low, high = (whole(part) for part in item.split("-", 1))
            if low > high:
                raise ConfigError(f"{flag}: the range {item!r} is empty.")
            out.extend(range(low, high + 1))
        else:
            out.append(whole(item))
    return out


def _float(text: str, flag: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{flag} expects rates such as 0.01,0.1 or a log range "
                          f"LOW:HIGH:COUNT such as 1e-4:1:9; got {text!r}.") from None


def _learning_rates(text: str) -> list[float] | dict[str, Any]:
    flag = "--learning-rate"
    if ":" in text:
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise ConfigError(f"{flag} range is LOW:HIGH:COUNT; got {text!r}.")
        out: dict[str, Any] = {"low": _float(parts[0], flag), "high": _float(parts[1], flag)}
        if len(parts) == 3:
            out["num"] = _ints(parts[2], flag)[0]
        return out
    return [_float(item, flag) for item in _items(text, flag)]


def _batch_sizes(text: str) -> list[int | str]:
    return [item if item == "full" else _ints(item, "--batch-size")[0]
            for item in _items(text, "--batch-size")]


def space_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings of ``--config`` with the flags given laid over them."""
    from descentlab.sweep.space import load

    settings: dict[str, Any] = load(args.config) if args.config else {}
    given: dict[str, Any] = {
        "data": args.data, "target": args.target,
        "optimizer": args.optimizers and _items(args.optimizers, "--optimizers"),
        "learning_rate": args.learning_rate and _learning_rates(args.learning_rate),
        "batch_size": args.batch_size and _batch_sizes(args.batch_size),
        "activation": args.activation and _items(args.activation, "--activation"),
        "depth": args.depth and _ints(args.depth, "--depth"),
        "width": args.width and _ints(args.width, "--width"),
        "initializer": args.initializer and _items(args.initializer, "--initializer"),
        "batch_norm": args.batch_norm and {"off": [False], "on": [True],
                                           "both": [False, True]}[args.batch_norm],
        "epochs": args.epochs and _ints(args.epochs, "--epochs"),
        "seeds": args.seeds and _ints(args.seeds, "--seeds", ranges=True),
        "validation_fraction": args.validation_fraction, "search": args.search,
        "samples": args.samples, "search_seed": args.search_seed, "metric": args.metric,
        "early_stopping": args.early_stopping, "grace_period": args.grace_period,
        "reduction_factor": args.reduction_factor}
    settings.update({k: v for k, v in given.items() if v is not None})
    return settings


def _fmt(value: float | None, spec: str = ".4g") -> str:
    return "—" if value is None else format(value, spec)


def print_summary(results: dict[str, Any], out: str) -> None:
    summary = results["summary"]
    metric = summary["metric"]
    rows = []
    for name, entry in summary["optimizers"].items():
        best, good = entry["best"], entry["good_range"]
        rows.append((
            name,
            _fmt(best and best["config"]["learning_rate"], ".3g"),
            _fmt(best and best[metric]["mean"]),
            "—" if best is None else f"{_fmt(best[metric]['min'])}–{_fmt(best[metric]['max'])}",
            _fmt(best and best["val_accuracy"]["mean"], ".4f"),
            "—" if good is None else f"{good['low']:.3g}–{good['high']:.3g}",
            "—" if good is None else f"{good['decades']:.2f}"))
    heads = ("optimizer", "best lr", f"{metric} (mean)", "over seeds", "val accuracy",
             "good rates", "decades")
    widths = [max(len(str(r[i])) for r in [heads, *rows]) for i in range(len(heads))]
    print()
    for row in [heads, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    counts = summary["trials"]
    rule = next((e["good_range"]["rule"] for e in summary["optimizers"].values()
                 if e["good_range"]), "")
    print(f"\ngood rates: {rule}")
    print(f"trials: {counts['ok']} ok, {counts['stopped']} stopped early, {counts['failed']} "
          f"failed, {summary['diverged']} diverged; {results['missing']} not run")
    failed = [r for r in results["trials"] if r["status"] == "failed"]
    for rec in failed[:5]:
        print(f"  failed {rec['id']}: {rec['error']}")
    print(f"\nresults: {os.path.join(out, 'results.json')}, {os.path.join(out, 'results.csv')}")
    if results.get("figures"):
        print(f"figures: {', '.join(results['figures'])}")


def run_command(args: argparse.Namespace) -> None:
    from descentlab.sweep.run import run_sweep
    from descentlab.sweep.space import from_dict
    from descentlab.sweep.store import TrialStore

    if args.ray and args.ray_address:
        raise ConfigError("give --ray (a cluster started here) or --ray-address (a running "
                          "one), not both.")
    what = f"the config file {args.config!r}" if args.config else "the search space"
    space = from_dict(space_settings(args), what)
    executor = "ray" if args.ray or args.ray_address else "local"
    try:
        results = run_sweep(space, args.out, executor=executor, workers=args.workers,
                            ray_address=args.ray_address, resume=args.resume,
                            retries=args.retries, progress=not args.quiet, lang=args.lang)
    except KeyboardInterrupt:
        recorded = len(TrialStore(args.out)) if os.path.isdir(args.out) else 0
        print(f"\n{recorded} finished trials are recorded in {args.out}; run the same command "
              "with --resume to finish the sweep.", file=sys.stderr)
        raise
    print_summary(results, args.out)
