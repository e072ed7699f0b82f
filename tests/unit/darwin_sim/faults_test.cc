#include "faults.h"

#include "gtest/gtest.h"
#include "json_util.h"

namespace labelport::darwin_sim {
namespace {

TEST(GlobMatchTest, Stars) {
  struct Case {
    const char* pattern;
    const char* path;
    bool matches;
  };
  for (const Case& c : {
           Case{"*", "/anything/at/all", true},
           Case{"/api/datasets", "/api/datasets", true},
           Case{"/api/datasets", "/api/datasets/1", false},
           Case{"*/items/*/import", "/api/v2/teams/t/items/abc/import", true},
           Case{"*/items/*/import", "/api/v2/teams/t/items/abc/annotations", false},
           Case{"/api/*", "/api/", true},
       }) {
    EXPECT_EQ(GlobMatch(c.pattern, c.path), c.matches) << c.pattern << " vs " << c.path;
  }
}

TEST(FaultRegistryTest, ConsumesMatchingFaultsInOrder) {
  FaultRegistry registry;
  Fault a;
  a.method = "GET";
  a.path_pattern = "/api/*";
  a.remaining = 2;
  a.status = 429;
  registry.Add(a);
  Fault b;
  b.path_pattern = "*";
  b.action = FaultAction::kDrop;
  registry.Add(b);
  // b (any method) matches first for a path a does not cover.
  EXPECT_EQ(registry.Take("POST", "/x")->action, FaultAction::kDrop);
  EXPECT_EQ(registry.Take("GET", "/api/datasets")->status, 429);
  EXPECT_EQ(registry.Take("GET", "/api/datasets")->status, 429);
  EXPECT_FALSE(registry.Take("GET", "/api/datasets").has_value());
  EXPECT_TRUE(registry.List().empty());
}

TEST(FaultFromJsonTest, ParsesAndValidates) {
  absl::StatusOr<Fault> f =
      FaultFromJson(ParseJson(R"({"method": "get", "path": "/a", "count": 3, "status": 503,
                    "retry_after": 2})")
                        ->as_object());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->method, "GET");
  EXPECT_EQ(f->remaining, 3);
  EXPECT_EQ(f->retry_after_s, 2);
  EXPECT_FALSE(FaultFromJson(ParseJson(R"({"action": "explode"})")->as_object()).ok());
  EXPECT_FALSE(FaultFromJson(ParseJson(R"({"status": 42})")->as_object()).ok());
  EXPECT_FALSE(FaultFromJson(ParseJson(R"({"path": "/a"})")->as_object()).ok());
  EXPECT_TRUE(FaultFromJson(ParseJson(R"({"action": "truncate"})")->as_object()).ok());
}

TEST(FaultRegistryTest, ProbabilisticFaultsAffectAboutThatShareAndSpareTheRest) {
  FaultRegistry registry;
  Fault f;
  f.path_pattern = "/api/*";
  f.remaining = 1'000'000;
  f.status = 500;
  f.probability = 0.3;
  registry.Add(f);
  int hit = 0;
  for (int i = 0; i < 10'000; ++i) hit += registry.Take("GET", "/api/x").has_value() ? 1 : 0;
  // 3,000 expected; 6 standard deviations (~46 each) either side.
  EXPECT_GT(hit, 2'700);
  EXPECT_LT(hit, 3'300);
  // Spared requests did not use up the fault.
  ASSERT_EQ(registry.List().size(), 1u);
  EXPECT_EQ(registry.List()[0].remaining, 1'000'000 - hit);
}

TEST(FaultFromJsonTest, ProbabilityIsInZeroToOne) {
  auto parse = [](const char* text) { return FaultFromJson(ParseJson(text)->as_object()); };
  absl::StatusOr<Fault> f = parse(R"({"status": 500, "probability": 0.25})");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->probability, 0.25);
  EXPECT_EQ(parse(R"({"status": 500})")->probability, 1.0);
  EXPECT_FALSE(parse(R"({"status": 500, "probability": 0})").ok());
  EXPECT_FALSE(parse(R"({"status": 500, "probability": 1.5})").ok());
  EXPECT_FALSE(parse(R"({"status": 500, "probability": "half"})").ok());
}

}  // namespace
}  // namespace labelport::darwin_sim
