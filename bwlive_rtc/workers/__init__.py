"""Media workers: the SFU in worker processes, each owning its streams (their producers,
consumers and recorders), behind the same router shape as the in-process Router
(``sfu/port.py``). ``service.py`` is the worker's side of the wire, ``pool.py`` the
front's (placing streams, restarting a worker that died), ``remote.py`` the front's view
of a stream held by a worker."""
