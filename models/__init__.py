"""The model catalogue: which models Baken uses, where they come from, and their provisioning and verification."""

from models.catalogue import CATALOGUE, ModelSpec, get_spec
from models.provision import ResolvedModel, provision, resolve, verify

__all__ = ["CATALOGUE", "ModelSpec", "ResolvedModel", "get_spec", "provision", "resolve", "verify"]
