"""The one policy interface of labrace: an observation batch in, an action batch out.

Scripted baselines (:mod:`labrace.agents.baselines`) and learned Stable-Baselines3 models
(:class:`SB3Policy`) implement the same :class:`Policy`, so evaluation, cross-play and the
background labs of the Gymnasium single-agent view treat them alike.

Saving and loading
------------------
``policy.save(path)`` writes ``path`` (``.zip``, the SB3 model) and a sidecar ``path.json``
describing it; scripted policies write only the JSON (their name). :func:`load_policy` reads
either back; a scripted policy needs the game it plays (``load_policy(path, game)``).
"""

from __future__ import annotations

import abc
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

#: file format version of the JSON sidecar
POLICY_FORMAT = 1


class Policy(abc.ABC):
    """A batched policy for one environment config.

    ``act(observations)`` maps observations of shape (M, obs_dim) (M labs, from any games) to
    actions of shape (M,) + action_space.shape in that environment's action space. Scripted
    baselines and learned models implement the same interface, so evaluation, cross-play and the
    Gymnasium single-agent view's background labs treat them alike.
    """

    name: str = "policy"

    @abc.abstractmethod
    def act(self, observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Actions for a batch of observations; ``rng`` drives any randomness."""

    def __call__(self, observations: np.ndarray) -> np.ndarray:
        return self.act(observations)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def save(self, path: str | os.PathLike) -> Path:
        """Save this policy; scripted policies save their name (a JSON file at ``path``).

        Returns the path of the JSON description.
        """
        return write_json(_meta_path(path), {"format": POLICY_FORMAT, **self.description()})

    def description(self) -> dict[str, Any]:
        """What :meth:`save` writes and :func:`load_policy` rebuilds this policy from: a scripted
        baseline's name (``make_baseline``)."""
        return {"kind": "scripted", "name": self.name}


class BlockPolicy(Policy):
    """Several policies side by side in one batch: ``policies[k]`` acts for the k-th of
    ``len(policies)`` equal consecutive blocks of the observation rows (the games of a rollout
    with ``repeats = len(policies)``, for one lab). Lets one batched rollout compare policies on
    common initial states."""

    def __init__(self, policies: list[Policy], name: str = "blocks") -> None:
        if not policies:
            raise ValueError("policies must hold at least one policy; got none")
        self.policies = list(policies)
        self.name = name

    def act(self, observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        K = len(self.policies)
        if len(observations) % K:
            raise ValueError(f"BlockPolicy of {K} policies got {len(observations)} observation rows, not a multiple of {K}")
        block = len(observations) // K
        return np.concatenate([policy.act(observations[k * block : (k + 1) * block], rng=rng) for k, policy in enumerate(self.policies)])


class CallablePolicy(Policy):
    """Wraps a plain function ``observations -> actions`` as a :class:`Policy`."""

    def __init__(self, fn: Callable[[np.ndarray], Any], name: str | None = None) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "callable")

    def act(self, observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return np.asarray(self.fn(observations))

    def save(self, path: str | os.PathLike) -> Path:
        raise TypeError(f"a CallablePolicy ({self.name!r}) wraps arbitrary code and cannot be saved")


class SB3Policy(Policy):
    """A Stable-Baselines3 model served as a batched :class:`Policy`.

    Actions are deterministic by default (the mode of the action distribution), which is what
    evaluation reports; pass ``deterministic=False`` to sample (SB3 then draws from torch's
    global generator, not from ``rng``). A model trained in logits (``action_transform``, see
    :mod:`labrace.agents.parameterisation`) has its outputs mapped to the environment's action
    space; other continuous actions are clipped to the action space, as SB3's ``predict`` does.
    """

    def __init__(self, model: Any, name: str = "learned", deterministic: bool = True, action_transform: Any = None) -> None:
        self.model = model
        self.name = name
        self.deterministic = deterministic
        #: the model acts in logits mapped by this transform (labrace.agents.parameterisation), or None
        self.action_transform = action_transform

    @property
    def algo(self) -> str:
        return type(self.model).__name__.lower()

    def act(self, observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        observations = np.asarray(observations, dtype=np.float32)
        if not self.deterministic:  # sampling (and DQN's epsilon-greedy) stays with SB3's predict
            return self._to_env(self.model.predict(observations, deterministic=False)[0])
        # The deterministic path of SB3's ``policy.predict`` without its per-call checks: the
        # independent trainer calls this once per background lab and environment step, where
        # the checks cost more than the network. A test pins it to ``model.predict``.
        import torch

        policy = self.model.policy
        if policy.training:  # switching every submodule costs more than the network itself
            policy.set_training_mode(False)
        with torch.no_grad():
            rows = torch.as_tensor(observations, device=policy.device)
            if _gaussian_actor(policy):  # the mode of a Gaussian is its mean: skip building the distribution
                actions = policy.action_net(policy.mlp_extractor.forward_actor(_actor_features(policy, rows)))
            else:
                actions = policy._predict(rows, deterministic=True)
        actions = actions.cpu().numpy().reshape((-1, *policy.action_space.shape))
        space = policy.action_space
        if self.action_transform is not None:
            return self.action_transform.to_env(actions)
        if hasattr(space, "low"):  # Box: rescale squashed outputs (SAC) or clip Gaussian ones (PPO, A2C)
            actions = policy.unscale_action(actions) if policy.squash_output else np.clip(actions, space.low, space.high)
        return actions

    def _to_env(self, actions: np.ndarray) -> np.ndarray:
        return actions if self.action_transform is None else self.action_transform.to_env(actions)

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``<path>.zip`` (the SB3 model, atomically) and ``<path>.json``; return the zip path."""
        zip_path = save_model_atomically(self.model, _zip_path(path))
        meta = {
            "format": POLICY_FORMAT,
            "kind": "sb3",
            "name": self.name,
            "algo": self.algo,
            "deterministic": self.deterministic,
            "model": zip_path.name,
        }
        if self.action_transform is not None:
            meta["action_param"] = self.action_transform.name
            meta["simplex_groups"] = [list(group) for group in self.action_transform.simplex_groups]
        write_json(_meta_path(path), meta)
        return zip_path


def _gaussian_actor(policy: Any) -> bool:
    """Whether an SB3 policy is an actor-critic with a diagonal Gaussian (PPO and A2C on Box actions)."""
    from stable_baselines3.common.distributions import DiagGaussianDistribution
    from stable_baselines3.common.policies import ActorCriticPolicy

    return isinstance(policy, ActorCriticPolicy) and type(policy.action_dist) is DiagGaussianDistribution


def _actor_features(policy: Any, observations: Any) -> Any:
    """The actor's features of a batch (``ActorCriticPolicy.get_distribution``'s first step)."""
    from stable_baselines3.common.policies import BaseModel

    return BaseModel.extract_features(policy, observations, policy.pi_features_extractor)


def as_policy(obj: Any) -> Policy:
    """A :class:`Policy` for a Policy (returned as is), an SB3 model or a plain callable."""
    if isinstance(obj, Policy):
        return obj
    if hasattr(obj, "predict") and hasattr(obj, "policy"):
        return SB3Policy(obj)
    if callable(obj):
        return CallablePolicy(obj)
    raise TypeError(f"a policy must be a labrace.agents.Policy or a callable observations -> actions; got {obj!r}")


def load_policy(path: str | os.PathLike, game: Any = None, deterministic: bool | None = None) -> Policy:
    """Load a policy written by :meth:`Policy.save` (``path`` with or without ``.zip``/``.json``).

    ``game`` is needed for scripted policies (to build them for that game's config); ``deterministic``
    overrides the saved setting of a learned one.
    """
    meta_path = _meta_path(path)
    if not meta_path.exists():
        raise ValueError(f"no saved policy at {path} (missing {meta_path})")
    meta = json.loads(meta_path.read_text())
    if meta.get("kind") == "scripted":
        if game is None:
            raise ValueError(f"{meta_path}: the scripted policy {meta['name']!r} needs the game: load_policy(path, game)")
        from labrace.agents.baselines import make_baseline

        return make_baseline(meta["name"], game)
    if meta.get("kind") == "fixed_allocation":
        if game is None:
            raise ValueError(f"{meta_path}: the fixed allocation {meta['name']!r} needs the game: load_policy(path, game)")
        from labrace.agents.baselines import FixedAllocation

        return FixedAllocation(game, meta["allocation"], meta["name"], commit=meta["commit"], declare=meta["declare"])
    if meta.get("kind") == "opportunist":
        if game is None:
            raise ValueError(f"{meta_path}: the opportunist {meta['name']!r} needs the game: load_policy(path, game)")
        from labrace.agents.baselines import Opportunist

        return Opportunist(game, meta["allocation"], meta["lead"], meta["name"])
    if meta.get("kind") == "sb3":
        from labrace.agents.trainers import algorithm_class  # trainers import SB3; keep this module light

        model = algorithm_class(meta["algo"]).load(meta_path.with_name(meta["model"]), device="cpu")
        chosen = meta["deterministic"] if deterministic is None else deterministic
        transform = None
        if meta.get("action_param", "direct") == "logits":
            from gymnasium import spaces

            from labrace.agents.parameterisation import LogitActions

            env_space = spaces.Box(0.0, 1.0, model.action_space.shape, dtype=np.float32)
            transform = LogitActions(env_space, tuple(tuple(group) for group in meta.get("simplex_groups", [])))
        return SB3Policy(model, name=meta["name"], deterministic=chosen, action_transform=transform)
    raise ValueError(f"{meta_path}: unknown policy kind {meta.get('kind')!r}")


# ---- small file helpers ----------------------------------------------------------------------


def _stem(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_suffix("") if path.suffix in (".zip", ".json") else path


def _zip_path(path: str | os.PathLike) -> Path:
    return _stem(path).with_suffix(".zip")


def _meta_path(path: str | os.PathLike) -> Path:
    return _stem(path).with_suffix(".json")


def _temporary(path: Path) -> Path:
    """The temporary sibling a file is written to before ``os.replace`` puts it at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f"tmp-{os.getpid()}-{path.name}")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` atomically: a temporary file in the same folder, then ``os.replace``."""
    path = Path(path)
    tmp = _temporary(path)
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` atomically (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode())


def save_model_atomically(model: Any, zip_path: str | os.PathLike) -> Path:
    """Save an SB3 model to ``zip_path`` (a ``.zip``) atomically: a cut-off save never replaces a good one."""
    zip_path = Path(zip_path)
    tmp = _temporary(zip_path)
    model.save(tmp)
    os.replace(tmp, zip_path)
    return zip_path


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically (numpy scalars and dataclasses allowed)."""
    return atomic_write_text(path, json.dumps(data, indent=2, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, Path):
        return str(obj)
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    return repr(obj)
