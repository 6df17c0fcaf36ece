"""Offline evaluations of Cadence models."""
