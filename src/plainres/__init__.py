"""plainres: why residual networks beat plain ones — Yu & Tomasi and Littwin & Wolf, reproduced."""

__version__ = "0.1.0"
