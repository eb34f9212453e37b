"""Pure renderers: a site model in, the stand-in's configuration out."""
