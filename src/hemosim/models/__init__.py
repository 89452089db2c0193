"""Physiology only: parameters with units and sources, batched state advance. No gymnasium."""
