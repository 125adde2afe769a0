"""``python -m lossbench.pruning +experiment=cmr``: does pruning change an answer? (`lossbench.analysis.pruning`)"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig, OmegaConf

from lossbench import runtime  # noqa: F401  (quiet TensorFlow before it loads)
from lossbench.errors import UserError, exit_with


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    from lossbench.analysis import pruning, reproduce
    from lossbench.sweep import space, study

    sp = space.load_space(cfg.sweep.space, cfg.sweep.seeds)
    try:
        first = reproduce.seed_sets(cfg)[0]
        base_cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(reproduce.set_overrides(str(cfg.name), first)))
        on, off = study.locate(cfg, sp), study.locate(base_cfg, space.load_space(cfg.sweep.space, first))
    except UserError as error:
        exit_with(error)
    pruning.write(cfg, on, off)


if __name__ == "__main__":
    main()
