#include "query_params.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labelport::darwin_sim {
namespace {

using ::testing::ElementsAre;

TEST(PercentDecodeTest, DecodesEscapesAndPlus) {
  EXPECT_EQ(PercentDecode("a%2Cb+c%5B%5D", true), "a,b c[]");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentDecode("%zz%4", true), "%zz%4");  // Malformed kept as is.
  EXPECT_EQ(PercentDecode("%e2%9c%93", true), "\xe2\x9c\x93");
}

TEST(NormalizePathTest, CollapsesSlashes) {
  EXPECT_EQ(NormalizePath("//api//datasets/"), "/api/datasets");
  EXPECT_EQ(NormalizePath(""), "/");
  EXPECT_EQ(NormalizePath("/"), "/");
  EXPECT_EQ(NormalizePath("///"), "/");
}

TEST(QueryParamsTest, AllListEncodingsAreOneList) {
  const QueryParams q =
      QueryParams::Parse("dataset_ids=1&dataset_ids[]=2&dataset_ids%5B%5D=3&dataset_ids%5b%5d=4");
  EXPECT_THAT(q.GetAll("dataset_ids"), ElementsAre("1", "2", "3", "4"));
}

TEST(QueryParamsTest, SdkItemListingQuery) {
  const QueryParams q = QueryParams::Parse(
      "item_names%5B%5D=example%2Cwith%2C+comma.mp4&page%5Bsize%5D=500&"
      "include_workflow_data=true&dataset_ids%5B%5D=1");
  EXPECT_THAT(q.GetAll("item_names"), ElementsAre("example,with, comma.mp4"));
  EXPECT_EQ(q.Get("page[size]"), "500");
  EXPECT_TRUE(q.GetBool("include_workflow_data", false));
  EXPECT_THAT(q.GetAll("dataset_ids"), ElementsAre("1"));
}

TEST(QueryParamsTest, RawBracketsAndMissingValues) {
  const QueryParams q = QueryParams::Parse("page[from]=abc&annotation_class_ids[]=None&flag&&x=");
  EXPECT_EQ(q.Get("page[from]"), "abc");
  EXPECT_THAT(q.GetAll("annotation_class_ids"), ElementsAre("None"));
  EXPECT_TRUE(q.Has("flag"));
  EXPECT_EQ(q.Get("x"), "");
  EXPECT_FALSE(q.Get("missing").has_value());
  EXPECT_TRUE(q.GetBool("missing", true));
  EXPECT_FALSE(QueryParams::Parse("b=TRUE").GetBool("c", false));
  EXPECT_TRUE(QueryParams::Parse("b=TRUE").GetBool("b", false));
}

}  // namespace
}  // namespace labelport::darwin_sim
