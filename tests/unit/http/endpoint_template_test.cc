#include "service/http/endpoint_template.h"

#include <gtest/gtest.h>

namespace labelport::http {
namespace {

TEST(EndpointTemplateTest, ReplacesTeamDatasetAndIdSegments) {
  EXPECT_EQ(EndpointTemplate("GET", "https://darwin.v7labs.com/api/v2/teams/acme/items?x=1"),
            "GET /api/v2/teams/{team}/items");
  EXPECT_EQ(EndpointTemplate("POST", "https://d.example/api/v2/teams/acme/items/register_upload"),
            "POST /api/v2/teams/{team}/items/register_upload");
  EXPECT_EQ(
      EndpointTemplate("GET", "https://d.example/api/v2/teams/acme/items/uploads/5f0c1d2e-aa/sign"),
      "GET /api/v2/teams/{team}/items/uploads/{upload}/sign");
  EXPECT_EQ(EndpointTemplate("POST", "https://d.example/api/v2/teams/t/items/abc-1/import"),
            "POST /api/v2/teams/{team}/items/{item}/import");
  EXPECT_EQ(
      EndpointTemplate("DELETE", "https://d.example/api/v2/teams/t/datasets/my-set/exports/exp-7"),
      "DELETE /api/v2/teams/{team}/datasets/{dataset}/exports/{export}");
  EXPECT_EQ(EndpointTemplate("PUT", "http://127.0.0.1:8080/api/datasets/123/archive"),
            "PUT /api/datasets/{dataset}/archive");
  EXPECT_EQ(EndpointTemplate("GET", "https://d.example/api/users/token_info"),
            "GET /api/users/token_info");
  EXPECT_EQ(EndpointTemplate("GET", "https://d.example/api/teams/acme/annotation_classes"),
            "GET /api/teams/{team}/annotation_classes");
  EXPECT_EQ(EndpointTemplate("PUT", "https://d.example/api/annotation_classes/991"),
            "PUT /api/annotation_classes/{class}");
}

TEST(EndpointTemplateTest, UnknownSegmentsWithDigitsBecomeIds) {
  EXPECT_EQ(EndpointTemplate("GET", "https://d.example/api/something/x42y/list"),
            "GET /api/something/{id}/list");
}

TEST(EndpointTemplateTest, SignedAndMalformedUrlsAreNeverSpelledOut) {
  EXPECT_EQ(EndpointTemplate("PUT", "https://s3.example/bucket/key/file.png?X-Amz-Signature=s"),
            "PUT {signed-url}");
  EXPECT_EQ(EndpointTemplate("GET", "not a url"), "GET {url}");
}

}  // namespace
}  // namespace labelport::http
