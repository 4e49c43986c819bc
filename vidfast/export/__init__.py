"""Writers of the originals' output formats: InternVid-G intermediate and final files
(``internvid``) and HawkEye grounding instruction records (``hawkeye``)."""
