"""``python -m lossbench.reproduce +experiment=cmr``: the experiment's sweep with two disjoint seed sets,
then what each concludes, compared (`lossbench.analysis.reproduce`)."""

from __future__ import annotations

from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from lossbench import runtime  # noqa: F401  (quiet TensorFlow before it loads)
from lossbench.errors import UserError, exit_with


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    from lossbench.analysis import claims
    from lossbench.analysis.reproduce import compare, seed_sets, set_overrides, write
    from lossbench.sweep import work
    from lossbench.sweep.__main__ import sweep

    task = [o for o in HydraConfig.get().overrides.task if not o.startswith(("name=", "sweep.seeds="))]
    conclusions = []
    try:
        sets = seed_sets(cfg)
        for seeds in sets:
            extra = set_overrides(str(cfg.name), seeds)
            scfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(extra))
            info = sweep(scfg, task + extra)
            table = claims.trials_frame(work.load(info))
            conclusions.append(claims.conclusions(table, 0, cfg.sweep.get("baseline")))
    except UserError as error:
        exit_with(error)
    command = "python -m lossbench.reproduce " + " ".join(HydraConfig.get().overrides.task)
    write(str(cfg.name), Path(cfg.paths.results) / str(cfg.name), compare(*conclusions), sets, command)


if __name__ == "__main__":
    main()
