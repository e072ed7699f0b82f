// EndpointTemplate: the low-cardinality name of an HTTP request for metrics,
// "METHOD /path/template", with every id, slug and name in the path replaced
// by a placeholder and the scheme, host and query dropped.
//
//   GET  https://darwin.v7labs.com/api/v2/teams/acme/items?dataset_ids=7
//        -> "GET /api/v2/teams/{team}/items"
//   POST .../api/v2/teams/acme/items/uploads/5f0c.../confirm
//        -> "POST /api/v2/teams/{team}/items/uploads/{upload}/confirm"
//   PUT  https://storage.example/_upload/abc?sig=...  (not under /api/)
//        -> "PUT {signed-url}"
//
// Under /api/, the segment after a V7 collection name (teams, datasets,
// items, uploads, exports, properties, workflows, annotation_classes) becomes
// that collection's placeholder unless it is a known sub-resource or action;
// any other segment holding a digit becomes "{id}". The result is kept only
// when it is one of the V7 endpoints labelport calls; any other /api/ path
// gives "METHOD {other}". Paths outside /api/ (signed storage URLs, media
// URLs) are never spelled out: they may carry object keys. A method other
// than GET, HEAD, POST, PUT, PATCH or DELETE is "OTHER". So the label takes
// values from a fixed set only, whatever URLs callers name. Never fails; a
// URL that does not parse gives "METHOD {url}".
#ifndef LABELPORT_SERVICE_HTTP_ENDPOINT_TEMPLATE_H_
#define LABELPORT_SERVICE_HTTP_ENDPOINT_TEMPLATE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace labelport::http {

std::string EndpointTemplate(absl::string_view method, absl::string_view url);

}  // namespace labelport::http

#endif  // LABELPORT_SERVICE_HTTP_ENDPOINT_TEMPLATE_H_
