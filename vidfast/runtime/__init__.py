"""The pipeline runtime: the stage protocol (``stage``), task records (``records``), the run directory
and its atomic writes (``store``) and the executors that connect stages (``executor``)."""
