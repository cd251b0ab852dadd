"""The runtime: what joins detection to the writing wings while containers run.

- :mod:`~hostgw.runtime.pipeline`: ``exec``'s steps and ``watch``'s passes;
- :mod:`~hostgw.runtime.watcher`, :mod:`~hostgw.runtime.sources` and
  :mod:`~hostgw.runtime.loop`: re-detect when the network changes;
- :mod:`~hostgw.runtime.notify`: tell the server;
- :mod:`~hostgw.runtime.supervise` and :mod:`~hostgw.runtime.execute`: PID 1;
- :mod:`~hostgw.runtime.wait`: wait for ports and HTTP endpoints;
- :mod:`~hostgw.runtime.snippet`: the sh script for images without Python;
- :mod:`~hostgw.runtime.api`: the public ``render``/``rewrite`` with detection.
"""
