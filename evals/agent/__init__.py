"""Agent eval: scripted scenarios run through the Cadence graph (live, fake or validated only)."""
