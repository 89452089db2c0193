"""Shared machinery of the environments: batched simulator base, env faces, RNG."""
