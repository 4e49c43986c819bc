"""Pipeline stages, one subpackage per family: decode (probe, decode check), and later scenes,
embed, caption, tags, regions, similarity, filter, generate, export, judge."""
