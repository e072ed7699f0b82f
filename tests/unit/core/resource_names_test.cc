#include "service/core/resource_names.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/unit/core/test_util.h"

namespace labelport::core {
namespace {

TEST(ResourceNamesTest, ValidRunKeysAreAccepted) {
  for (const std::string key :
       {"gt", "_private", "run1", "GT_Run_2", "données", "élan", "ключ", "名前", "x"}) {
    SCOPED_TRACE(key);
    EXPECT_TRUE(IsValidRunKey(key));
  }
}

TEST(ResourceNamesTest, HyphenatedKeyIsRejected) { EXPECT_FALSE(IsValidRunKey("my-key")); }
TEST(ResourceNamesTest, KeyStartingWithDigitIsRejected) { EXPECT_FALSE(IsValidRunKey("1run")); }
TEST(ResourceNamesTest, EmptyKeyIsRejected) { EXPECT_FALSE(IsValidRunKey("")); }

TEST(ResourceNamesTest, KeysWithPunctuationOrSpacesAreRejected) {
  for (const std::string key : {"a b", "a.b", "a/b", "run!", " run", "run\n"}) {
    SCOPED_TRACE(key);
    EXPECT_FALSE(IsValidRunKey(key));
  }
}

TEST(ResourceNamesTest, OverlongKeyIsRejected) {
  EXPECT_TRUE(IsValidRunKey(std::string(256, 'k')));
  EXPECT_FALSE(IsValidRunKey(std::string(257, 'k')));
}

// Regression test (found by this suite, fixed in service/core).
TEST(ResourceNamesTest, NonIdentifierUnicodeCharactersAreRejected) {
  for (const std::string key : {"run€", "a\u00a0b", "٣run", "run\xff"}) {
    SCOPED_TRACE(key);
    EXPECT_FALSE(IsValidRunKey(key));
  }
}

TEST(ResourceNamesTest, InvalidRunKeyErrorUsesFiftyOneWording) {
  EXPECT_INVALID(InvalidRunKeyError("header.anno_key", "my-key"), "header.anno_key",
                 "INVALID_RUN_KEY",
                 "Invalid annotation run key 'my-key'. Keys must be valid variable names");
}

TEST(ResourceNamesTest, DatasetNameRoundTrips) {
  auto dataset = ParseDatasetName("datasets/my-data", "parent");
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_EQ(*dataset, "my-data");
}

TEST(ResourceNamesTest, MalformedDatasetNamesAreRejected) {
  for (const std::string& name :
       {std::string(""), std::string("datasets"), std::string("datasets/"),
        std::string("dataset/x"), std::string("datasets/a/b"), std::string("projects/x"),
        std::string("/datasets/x"), std::string("datasets/a\tb"),
        "datasets/" + std::string(257, 'd')}) {
    SCOPED_TRACE(name);
    EXPECT_INVALID(
        ParseDatasetName(name, "parent"), "parent", "INVALID_RESOURCE_NAME",
        "'" + common::Excerpt(name) + "' is not a dataset name of the form 'datasets/{dataset}'");
  }
}

TEST(ResourceNamesTest, LongNamesAreQuotedShortInErrors) {
  const std::string name = "datasets/" + std::string(1 << 20, 'd');
  EXPECT_INVALID(ParseDatasetName(name, "parent"), "parent", "INVALID_RESOURCE_NAME",
                 "'datasets/" + std::string(55, 'd') +
                     "\u2026(1048585 bytes)' is not a dataset name of the form "
                     "'datasets/{dataset}'");
  EXPECT_INVALID(InvalidRunKeyError("header.anno_key", std::string(1 << 20, 'k')),
                 "header.anno_key", "INVALID_RUN_KEY",
                 "Invalid annotation run key '" + std::string(64, 'k') +
                     "\u2026(1048576 bytes)'. Keys must be valid variable names");
}

TEST(ResourceNamesTest, RunNameRoundTrips) {
  const std::string name = FormatRunName("ds", "gt_run");
  EXPECT_EQ(name, "datasets/ds/runs/gt_run");
  auto parsed = ParseRunName(name, "name");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->dataset, "ds");
  EXPECT_EQ(parsed->anno_key, "gt_run");
}

TEST(ResourceNamesTest, RunNameDoesNotValidateKeyAsIdentifier) {
  auto parsed = ParseRunName("datasets/ds/runs/my-key", "name");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->anno_key, "my-key");
}

TEST(ResourceNamesTest, MalformedRunNamesAreRejected) {
  for (const std::string name : {"", "datasets/ds", "datasets/ds/runs", "datasets/ds/runs/",
                                 "datasets//runs/k", "datasets/ds/run/k", "dataset/ds/runs/k",
                                 "datasets/ds/runs/k/extra", "datasets/ds/runs/k\x01"}) {
    SCOPED_TRACE(name);
    EXPECT_INVALID(
        ParseRunName(name, "name"), "name", "INVALID_RESOURCE_NAME",
        "'" + name + "' is not a run name of the form 'datasets/{dataset}/runs/{anno_key}'");
  }
}

}  // namespace
}  // namespace labelport::core
