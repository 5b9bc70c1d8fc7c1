"""``lstmrun`` with one of ``lanes_ablation.py``'s variants in place of the lanes kernel.

Usage: python bench/variant_cli.py VARIANT train CONFIG --lanes L [lstmrun train's options]
e.g.   python bench/variant_cli.py f32 train configs/paper/exp4_adding_t100.yaml --trials 16 \\
           --jobs 1 --lanes 16 --out /tmp/f32

For timing what a variant would give a whole command (``lockstep_e2e.py --f32``). **Not for
results**: a variant is not the committed kernel (``f32`` trains in single precision, the others
compute something else), and its run folder does not say so. Only calls of the lanes kernel
change; one-net calls, checks and post-tests are the committed code.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lanes_ablation  # noqa: E402

from lstmrun.cli import main as cli_main  # noqa: E402
from lstmrun.engine import codegen, model  # noqa: E402


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in lanes_ablation.VARIANTS:
        sys.exit(f"usage: variant_cli.py VARIANT ARGS...; variants: "
                 f"{', '.join(lanes_ablation.VARIANTS)}")
    folder = codegen.cache_dir() / "ablation"
    folder.mkdir(parents=True, exist_ok=True)
    mod = lanes_ablation.variant_module(argv[0], folder)
    model.codegen.kernel = lanes_ablation.variant_kernel(mod)
    cli_main(argv[1:])


if __name__ == "__main__":
    main()
