// In-process tests of the request pipeline (no sockets).
#include "sim_app.h"

#include "gtest/gtest.h"
#include "json_util.h"
#include "tests/unit/darwin_sim/one_team_app.h"

namespace labelport::darwin_sim {
namespace {

using testing::kTeamKey;

class SimAppTest : public testing::OneTeamAppTest {
 protected:
  Outcome Call(std::string method, std::string target, std::string body = "", bool auth = true) {
    SimRequest req;
    req.method = std::move(method);
    const size_t q = target.find('?');
    req.path = NormalizePath(target.substr(0, q));
    if (q != std::string::npos) {
      req.raw_query = target.substr(q + 1);
      req.query = QueryParams::Parse(req.raw_query);
    }
    if (auth) req.headers["authorization"] = std::string("ApiKey ") + kTeamKey;
    req.body = std::move(body);
    req.base_url = "http://127.0.0.1:9";
    return app_->Handle(req);
  }

  json::value Json(const Outcome& o) { return *ParseJson(o.response.body); }
};

TEST_F(SimAppTest, TokenInfoAndAuth) {
  EXPECT_EQ(Json(Call("GET", "/api/users/token_info")).at("selected_team").at("slug"), "team");
  EXPECT_EQ(Call("GET", "/api/users/token_info", "", false).response.status, 401);
  EXPECT_EQ(Call("GET", "/api/teams/other/features").response.status, 403);
  EXPECT_EQ(Call("GET", "/api/nothing/here/at/all").response.status, 404);
  EXPECT_EQ(Call("DELETE", "/api/datasets").response.status, 405);
}

TEST_F(SimAppTest, DatasetCreateSlugAndNameTaken) {
  Outcome created = Call("POST", "/api/datasets", R"({"name": "Bird Species!"})");
  EXPECT_EQ(Json(created).at("slug"), "bird-species");
  Outcome again = Call("POST", "/api/datasets", R"({"name": "Bird Species!"})");
  EXPECT_EQ(again.response.status, 422);
  EXPECT_EQ(Json(again), *ParseJson(R"({"errors": {"name": ["has already been taken"]}})"));
}

TEST_F(SimAppTest, FaultsApplyToApiButNotControl) {
  Call("POST", "/_sim/faults", R"({"path": "*", "count": 1, "status": 503, "retry_after": 3})");
  Outcome faulted = Call("GET", "/api/datasets");
  EXPECT_EQ(faulted.response.status, 503);
  ASSERT_EQ(faulted.response.headers.size(), 1u);
  EXPECT_EQ(faulted.response.headers[0].second, "3");
  EXPECT_EQ(Call("GET", "/api/datasets").response.status, 200);
  Call("POST", "/_sim/faults", R"({"path": "*", "action": "drop"})");
  EXPECT_EQ(Call("GET", "/_sim/state").response.status,
            200);  // Control is exempt.
  EXPECT_EQ(Call("GET", "/api/datasets").action, FaultAction::kDrop);
  json::value log = Json(Call("GET", "/_sim/requests"));
  EXPECT_EQ(log.at("requests").as_array().size(), 3u);
  EXPECT_EQ(log.at("requests").at(2).at("status"), 0);
  EXPECT_EQ(log.at("requests").at(2).at("fault"), "drop");
  EXPECT_EQ(log.at("requests").at(0).at("headers").at("authorization"), "ApiKey <redacted>");
}

TEST_F(SimAppTest, RateLimitGives429WithRetryAfter) {
  Call("POST", "/_sim/config", R"({"rate_limit_per_minute": 2})");
  EXPECT_EQ(Call("GET", "/api/datasets").response.status, 200);
  EXPECT_EQ(Call("GET", "/api/datasets").response.status, 200);
  Outcome limited = Call("GET", "/api/datasets");
  EXPECT_EQ(limited.response.status, 429);
  EXPECT_EQ(limited.response.headers.at(0).first, "Retry-After");
}

TEST_F(SimAppTest, ImportValidatesClassAndHonoursOverwrite) {
  Call("POST", "/api/datasets", R"({"name": "d"})");
  json::value reg = Json(Call("POST", "/api/v2/teams/team/items/register_upload",
                              R"({"dataset_slug": "d", "items": [{"name": "a.png", "path": "/",
                                  "slots": [{"file_name": "a.png", "slot_name": "0"}]}]})"));
  const std::string item_id(reg.at("items").at(0).at("id").as_string());
  const std::string import = "/api/v2/teams/team/items/" + item_id + "/import";
  EXPECT_EQ(Call("POST", import, R"({"annotations": [{"annotation_class_id": 999, "data": {}}]})")
                .response.status,
            422);
  json::value classes = Json(Call("GET", "/api/teams/team/annotation_classes"));
  const int64_t raster = classes.at("annotation_classes").at(0).at("id").as_int64();
  // A malformed raster layer is refused; a valid one (the slot's size is not
  // known before its upload, so any total) is stored.
  EXPECT_EQ(Call("POST", import,
                 R"({"annotations": [{"annotation_class_id": )" + std::to_string(raster) +
                     R"(, "data": {"raster_layer": {}}}]})")
                .response.status,
            422);
  const std::string one = R"({"annotations": [{"annotation_class_id": )" + std::to_string(raster) +
                          R"(, "id": null, "data": {"raster_layer": {"dense_rle": [0, 4], )"
                          R"("total_pixels": 4, "mask_annotation_ids_mapping": {}}}}], )"
                          R"("overwrite": )";
  EXPECT_EQ(Call("POST", import, one + "\"false\"}").response.status, 200);
  EXPECT_EQ(Call("POST", import, one + "false}").response.status, 200);
  const std::string list = "/api/v2/teams/team/items/" + item_id + "/annotations";
  EXPECT_EQ(Json(Call("GET", list)).as_array().size(), 2u);
  EXPECT_EQ(Call("POST", import, one + "true}").response.status, 200);
  json::value after = Json(Call("GET", list));
  ASSERT_EQ(after.as_array().size(), 1u);
  EXPECT_EQ(after.at(0).at("id").as_string().size(), 36u);  // Assigned a UUID.
  EXPECT_EQ(after.at(0).at("context_keys").at("slot_names"), *ParseJson(R"(["0"])"));
}

TEST_F(SimAppTest, ImportAboveBodyLimitIs413) {
  Call("POST", "/_sim/config", R"({"import_body_limit": 10})");
  EXPECT_EQ(
      Call("POST", "/api/v2/teams/team/items/x/import", R"({"annotations": []})").response.status,
      413);
}

TEST_F(SimAppTest, CompressedBodiesAreInflated) {
  SimRequest req;
  req.method = "POST";
  req.path = "/api/datasets";
  req.headers["authorization"] = std::string("ApiKey ") + kTeamKey;
  req.headers["x-darwin-payload-compression-version"] = "1";
  // zlib.compress(b'{"name": "z"}') from Python.
  req.body = std::string(
      "\x78\x9c\xab\x56\xca\x4b\xcc\x4d\x55\xb2\x52\x50\xaa\x52\xaa\x05\x00"
      "\x1d\x06\x03\xf6",
      21);
  Outcome out = app_->Handle(req);
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(Json(out).at("slug"), "z");
  req.body = "garbage";
  EXPECT_EQ(app_->Handle(req).response.status, 400);
}

TEST_F(SimAppTest, ExportHonoursItemIdsAndCanBeDeleted) {
  Call("POST", "/_sim/config", R"({"export_delay_ms": 0})");
  Call("POST", "/api/datasets", R"({"name": "d"})");
  json::value reg = Json(Call("POST", "/api/v2/teams/team/items/register_upload",
                              R"({"dataset_slug": "d", "items": [
                                  {"name": "a.png", "path": "/",
                                   "slots": [{"file_name": "a.png", "slot_name": "0"}]},
                                  {"name": "b.png", "path": "/",
                                   "slots": [{"file_name": "b.png", "slot_name": "0"}]}]})"));
  const std::string a(reg.at("items").at(0).at("id").as_string());
  const std::string b(reg.at("items").at(1).at("id").as_string());
  for (const std::string& id : {a, b}) {
    ASSERT_EQ(
        Call("POST", "/_sim/items/" + id + "/status", R"({"status": "complete"})").response.status,
        200);
  }
  const std::string exports = "/api/v2/teams/team/datasets/d/exports";
  const std::string filters = R"(, "format": "darwin_json_2", "annotation_filters": {},
      "filters": {"not_statuses": ["archived", "error"])";
  ASSERT_EQ(Call("POST", exports,
                 R"({"name": "only-b")" + filters + R"(, "item_ids": [")" + b + R"("]}})")
                .response.status,
            200);
  ASSERT_EQ(Call("POST", exports, R"({"name": "all")" + filters + "}}").response.status, 200);
  json::value listed = Json(Call("GET", exports));
  ASSERT_EQ(listed.as_array().size(), 2u);
  EXPECT_EQ(listed.at(0).at("name"), "only-b");
  EXPECT_EQ(listed.at(0).at("metadata").at("num_images"), 1);
  EXPECT_EQ(listed.at(1).at("metadata").at("num_images"), 2);

  Outcome deleted = Call("DELETE", exports + "/only-b");
  EXPECT_EQ(deleted.response.status, 200);
  EXPECT_EQ(Json(deleted), json::value(json::object()));
  listed = Json(Call("GET", exports));
  ASSERT_EQ(listed.as_array().size(), 1u);
  EXPECT_EQ(listed.at(0).at("name"), "all");
  EXPECT_EQ(Call("DELETE", exports + "/only-b").response.status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v2/teams/team/datasets/nope/exports/all").response.status, 404);
  EXPECT_EQ(Call("DELETE", exports + "/all", "", false).response.status, 401);
}

}  // namespace
}  // namespace labelport::darwin_sim
