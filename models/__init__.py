"""The model catalogue: which models Baken uses, where they come from, and their provisioning and verification."""

from models.catalogue import CATALOGUE, ModelSpec, get_spec
from models.provision import ResolvedModel, derived_dir, provision, resolve, verify, verify_manifest

__all__ = ["CATALOGUE", "ModelSpec", "ResolvedModel", "derived_dir", "get_spec", "provision", "resolve", "verify",
           "verify_manifest"]
