#include "service/http/endpoint_template.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

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

TEST(EndpointTemplateTest, PathsThatAreNoKnownV7EndpointShareOneLabel) {
  EXPECT_EQ(EndpointTemplate("GET", "https://d.example/api/something/x42y/list"), "GET {other}");
  EXPECT_EQ(EndpointTemplate("GET", "http://127.0.0.1:9464/api/v2/teams/acme/secret-bucket"),
            "GET {other}");
  EXPECT_EQ(EndpointTemplate("GET", "http://media.example/api/users/alice/photo.png"),
            "GET {other}");
  EXPECT_EQ(EndpointTemplate("BREW", "https://d.example/api/datasets"), "OTHER /api/datasets");
}

TEST(EndpointTemplateTest, ManyDistinctUrlsYieldAFewLabels) {
  std::set<std::string> labels;
  for (int i = 0; i < 600; ++i) {
    const std::string n = std::to_string(i);
    for (const std::string& url :
         {"http://127.0.0.1:8/api/img" + n + "/x.png", "http://h" + n + ".example/api/w" + n,
          "http://h.example/api/v2/teams/t" + n + "/items/p" + n,
          "https://cdn.example/media/" + n + ".png?sig=" + n, "not a url " + n}) {
      labels.insert(EndpointTemplate("GET", url));
    }
  }
  EXPECT_EQ(labels, (std::set<std::string>{"GET {other}", "GET {signed-url}", "GET {url}"}));
}

TEST(EndpointTemplateTest, SignedAndMalformedUrlsAreNeverSpelledOut) {
  EXPECT_EQ(EndpointTemplate("PUT", "https://s3.example/bucket/key/file.png?X-Amz-Signature=s"),
            "PUT {signed-url}");
  EXPECT_EQ(EndpointTemplate("GET", "not a url"), "GET {url}");
}

}  // namespace
}  // namespace labelport::http
