"""The in-process demo of the whole pipeline on sample photos."""
