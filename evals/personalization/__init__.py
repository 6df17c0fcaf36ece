"""Personalization eval: contact records with step templates, typed scorers, a runner."""
