"""Pipeline stages, one subpackage per family: decode (probe, decode check, frame sampling), scenes,
embed, caption (BLIP-2, key frames), tags (CLIP zero-shot), regions (OWLv2 + BLIP-2), generate
(LLM stages), and later similarity, filter, export, judge."""
