"""Offline checks of deploy/ (Dockerfile, Kubernetes manifests) and bazel-compat/."""
