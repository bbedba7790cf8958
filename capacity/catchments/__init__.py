"""Designed catchments (划片, docs/catchments.md): each demand unit wholly to one school of
its stage, every catchment one connected set of adjacent units holding or touching its
school, sized to the places; the bureau's current map as an input."""
