"""Rule policies for ``hemosim/DICManagement-v0`` (FACTS 7.2) and reference policies.

Every policy has ``predict(obs, info=None)`` for one observation (1-D) or a batch (2-D) and
returns ``MultiDiscrete([4, 4, 3, 3])`` actions: (FFP level, platelet doses, cryo doses,
heparin level); FFP level 2 = 15 mL/kg. "Bleeding" is a clinically relevant bleed (ISTH
class >= 2) seen in the last step (obs[6]). The guideline rules read only the observation,
except "thrombosis predominates", which they read from ``info["events"]["thromboembolism"]``
(a diagnosed thrombosis is clinically visible but not part of the observation vector).

* :class:`BCSH2009Policy` (Levi et al., Br J Haematol 2009): platelets if bleeding and
  < 50 x10^9/L; FFP 15 mL/kg if bleeding with PT or aPTT > 1.5 x normal; cryoprecipitate if
  fibrinogen < 1 g/L persists despite FFP (FFP given in the previous step) while bleeding;
  prophylactic heparin in the non-bleeding patient; therapeutic heparin once thrombosis is
  diagnosed and the patient is not bleeding.
* :class:`ISTH2013Policy` (Wada et al., J Thromb Haemost 2013;11:761): FFP if bleeding and
  (PT or aPTT > 1.5 x normal or fibrinogen < 1.5 g/L); cryoprecipitate if bleeding and
  fibrinogen < 1.5 g/L despite FFP; platelets if bleeding and < 50, or < 20 x10^9/L
  (high risk); heparin as BCSH.
* :class:`TransfuseToNormalPolicy`: the over-treatment the guidance warns against: FFP
  15 mL/kg whenever PT > 1.2 x normal or aPTT > 1.2 x normal, platelets below 150,
  cryoprecipitate below 2 g/L, no heparin.
* :class:`NoTreatmentPolicy`, :class:`DICRandomPolicy` (uniform over the action space).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from hemosim.agents.policies import observation_batch
from hemosim.envs.dic import NORMAL_APTT_S, NORMAL_PT_S, observation_to_labs

__all__ = ["BCSH2009Policy", "ISTH2013Policy", "TransfuseToNormalPolicy", "NoTreatmentPolicy", "DICRandomPolicy"]

NVEC = np.array([4, 4, 3, 3])


def _thrombosis(info: Mapping[str, Any] | None, n: int) -> np.ndarray:
    if info is None or "events" not in info:
        return np.zeros(n, dtype=bool)
    return np.atleast_1d(np.asarray(info["events"]["thromboembolism"], dtype=bool)).reshape(n)


class _GuidelinePolicy:
    fibrinogen_ffp_g_per_l: float | None = None  # ISTH: FFP also for fibrinogen < 1.5
    fibrinogen_cryo_g_per_l: float = 1.0
    platelets_high_risk: float | None = None

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the per-patient memory (FFP last step, thrombosis seen)."""
        self._ffp_last: np.ndarray | None = None
        self._thrombosis: np.ndarray | None = None

    def predict(self, obs: Any, info: Mapping[str, Any] | None = None) -> np.ndarray:
        o, single = observation_batch(obs)
        n = o.shape[0]
        labs = observation_to_labs(o)
        new = labs["hours"] == 0.0  # a new patient: forget its memory
        if self._ffp_last is None or self._ffp_last.shape[0] != n:
            self._ffp_last = np.zeros(n, dtype=bool)
            self._thrombosis = np.zeros(n, dtype=bool)
        self._ffp_last[new] = False
        self._thrombosis[new] = False
        self._thrombosis |= _thrombosis(info, n) & ~new
        bleeding = labs["bleeding_isth_class"] >= 1.5
        plt, fib = labs["platelets_10e9_per_l"], labs["fibrinogen_g_per_l"]
        prolonged = (labs["pt_s"] > 1.5 * NORMAL_PT_S) | (labs["aptt_s"] > 1.5 * NORMAL_APTT_S)
        ffp_need = prolonged
        if self.fibrinogen_ffp_g_per_l is not None:
            ffp_need = ffp_need | (fib < self.fibrinogen_ffp_g_per_l)
        ffp = bleeding & ffp_need
        cryo = bleeding & (fib < self.fibrinogen_cryo_g_per_l) & self._ffp_last
        platelets = bleeding & (plt < 50.0)
        if self.platelets_high_risk is not None:
            platelets |= plt < self.platelets_high_risk
        heparin = np.where(bleeding, 0, np.where(self._thrombosis, 2, 1))
        self._ffp_last = ffp.copy()
        a = np.stack([np.where(ffp, 2, 0), platelets.astype(np.int64), cryo.astype(np.int64), heparin], axis=1)
        a = a.astype(np.int64)
        return a[0] if single else a

    __call__ = predict


class BCSH2009Policy(_GuidelinePolicy):
    """BCSH 2009 guideline (Levi et al.; FACTS 7.2)."""


class ISTH2013Policy(_GuidelinePolicy):
    """ISTH/SSC 2013 harmonised guidance (Wada et al.; FACTS 7.2)."""

    fibrinogen_ffp_g_per_l = 1.5
    fibrinogen_cryo_g_per_l = 1.5
    platelets_high_risk = 20.0


class TransfuseToNormalPolicy:
    """Correct every abnormal number, bleeding or not (no heparin)."""

    def reset(self) -> None:
        """Stateless."""

    def predict(self, obs: Any, info: Mapping[str, Any] | None = None) -> np.ndarray:
        o, single = observation_batch(obs)
        labs = observation_to_labs(o)
        ffp = (labs["pt_s"] > 1.2 * NORMAL_PT_S) | (labs["aptt_s"] > 1.2 * NORMAL_APTT_S)
        plt = labs["platelets_10e9_per_l"] < 150.0
        cryo = labs["fibrinogen_g_per_l"] < 2.0
        a = np.stack([np.where(ffp, 2, 0), plt.astype(np.int64), cryo.astype(np.int64),
                      np.zeros(len(o), dtype=np.int64)], axis=1).astype(np.int64)
        return a[0] if single else a

    __call__ = predict


class NoTreatmentPolicy:
    """No product, no heparin (the natural course)."""

    def reset(self) -> None:
        """Stateless."""

    def predict(self, obs: Any, info: Mapping[str, Any] | None = None) -> np.ndarray:
        o, single = observation_batch(obs)
        a = np.zeros((len(o), 4), dtype=np.int64)
        return a[0] if single else a

    __call__ = predict


class DICRandomPolicy:
    """Uniform random actions over ``MultiDiscrete([4, 4, 3, 3])`` from its own generator."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        """Restart the random stream from ``seed``."""
        self._rng = np.random.default_rng(self.seed)

    def predict(self, obs: Any, info: Mapping[str, Any] | None = None) -> np.ndarray:
        o, single = observation_batch(obs)
        a = self._rng.integers(0, NVEC, size=(len(o), 4)).astype(np.int64)
        return a[0] if single else a

    __call__ = predict
