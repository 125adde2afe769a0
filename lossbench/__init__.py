"""lossbench.

``${no_background:X}`` (used by ``conf/loss/*.yaml``): true when ``X`` (``data.background``) is null, so the
Dice family averages every class on a data set without a background class, and leaves class 0 out otherwise.
"""

from omegaconf import OmegaConf

OmegaConf.register_new_resolver("no_background", lambda background: background is None, replace=True)
