"""Real Docker Engine and Podman, each contained in a network namespace of its own.

The layer (marker ``runtime``) needs root and what ``scripts/test`` installs:
Debian's docker.io, podman (netavark, slirp4netns, passt), debootstrap, and
the wheels of hostgw's dependencies in ``/var/cache/hostgw-tests/wheels``.

- ``lan``: a made-up LAN (a bridge in a namespace of its own, with a router
  address that forwards nothing) and one namespace per runtime as its host;
  no bridge, rule or published port appears in the machine's own namespace.
- ``images``: the base image, built without a registry by debootstrap and
  cached by its package list, and hostgw's wheel, built from the checkout.
- ``docker`` and ``podman``: the daemon and the CLI, every container and
  network they make removed by exact name, then the daemon by pid, its mounts
  by exact path, and its namespaces by name, even when a test fails.

Containers ask only resolvers of ours: 127.0.0.1 inside the runtime's own
namespace, where nothing listens.
"""
