"""A FiftyOne annotation backend for V7 Darwin that runs through labelport.

Configure FiftyOne as its V7 guide describes, with this package's config class and the address
of labelport-server (the server holds the V7 API key; the client needs none):

    export FIFTYONE_ANNOTATION_BACKENDS=*,darwin
    export FIFTYONE_DARWIN_CONFIG_CLS=labelport.fiftyone.DarwinBackendConfig
    export FIFTYONE_DARWIN_URL=localhost:50051      # the default

then `view.annotate(anno_key, backend="darwin", label_schema=..., dataset_slug=...)`,
`dataset.load_annotations(anno_key)`, `results.cleanup()` and the run-management methods work
unchanged. Optional parameters: `token` (bearer token of the service, never persisted), `tls`,
`root_certificates` (path of a PEM CA file), `upload_timeout` (seconds to wait for the run to
be ready in V7, default 3600), `fast_load` (default True; see DarwinBackendConfig). `api_key` is
accepted for compatibility and ignored. Progress bars follow `fo.config.show_progress_bars`.
"""

from labelport.fiftyone.backend import (
    DEFAULT_URL,
    DarwinBackend,
    DarwinBackendConfig,
    DarwinResults,
    LabelportAPI,
)

__all__ = ["DEFAULT_URL", "DarwinBackendConfig", "DarwinBackend", "DarwinResults", "LabelportAPI"]
