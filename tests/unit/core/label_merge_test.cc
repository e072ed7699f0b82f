// FiftyOne's _merge_labels as MergeFieldValue computes it (spec:
// annotation-semantics §4.3, checklist items 37-48).
#include "service/core/label_merge.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/unit/core/test_util.h"

namespace labelport::core {
namespace {

using ::labelport::core::testing::Parse;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

MATCHER_P(EqualsProto, expected, "equals " + expected.ShortDebugString()) {
  if (google::protobuf::util::MessageDifferencer::Equals(arg, expected)) return true;
  *result_listener << "is " << arg.ShortDebugString();
  return false;
}

v1::FieldSchema Schema(const std::string& text) { return Parse<v1::FieldSchema>(text); }
v1::FieldValue Value(const std::string& text) { return Parse<v1::FieldValue>(text); }

// A detections field with a field-level "occluded" attribute and a class
// group {car, truck} with a "make" attribute.
constexpr char kDetectionsSchema[] = R"pb(
  field: "ground_truth"
  type: "detections"
  classes {
    entries { name: "person" }
    entries {
      group {
        classes { names: "car" names: "truck" }
        attributes {
          specs {
            specs {
              name: "make"
              type: "single_select"
              values { string_value: "vw" }
              values { string_value: "bmw" }
            }
          }
        }
      }
    }
  }
  attributes { specs { specs { name: "occluded" type: "single_select" } } }
)pb";

TEST(LabelMergeTest, MatchedLabelIsMergedInPlaceKeepingIdConfidenceTagsAndOtherAttributes) {
  const v1::FieldValue baseline = Value(R"pb(
    detections {
      detections {
        id: "a"
        label: "person"
        bounding_box: [ 0.1, 0.1, 0.2, 0.2 ]
        confidence: 0.9
        tags: "reviewed"
        attributes {
          key: "iscrowd"
          value { int_value: 0 }
        }
      }
    })pb");
  const v1::FieldValue downloaded = Value(R"pb(
    detections {
      detections {
        id: "a"
        label: "car"
        bounding_box: [ 0.3, 0.4, 0.1, 0.1 ]
        confidence: 0.1
        tags: "other"
        attributes {
          key: "iscrowd"
          value { int_value: 1 }
        }
        attributes {
          key: "darwin_annotators"
          value { string_value: "Ann" }
        }
      }
    })pb");
  const FieldMerge m = MergeFieldValue(Schema(kDetectionsSchema), baseline, downloaded);
  EXPECT_THAT(m.merged, EqualsProto(Value(R"pb(
                detections {
                  detections {
                    id: "a"
                    label: "car"
                    bounding_box: [ 0.3, 0.4, 0.1, 0.1 ]
                    confidence: 0.9
                    tags: "reviewed"
                    attributes {
                      key: "iscrowd"
                      value { int_value: 0 }
                    }
                  }
                })pb")));
  EXPECT_THAT(m.edited, ElementsAre("a"));
  EXPECT_THAT(m.added, IsEmpty());
  EXPECT_THAT(m.deleted, IsEmpty());
  EXPECT_EQ(m.unchanged, 0);
}

TEST(LabelMergeTest, SpatialEditsCopyPolylinePointsClosedAndFilled) {
  const v1::FieldSchema schema = Schema(R"pb(field: "lines" type: "polylines")pb");
  const FieldMerge m = MergeFieldValue(schema, Value(R"pb(
                                         polylines {
                                           polylines {
                                             id: "p"
                                             label: "road"
                                             points {
                                               points { x: 0.1 y: 0.1 }
                                               points { x: 0.2 y: 0.2 }
                                             }
                                           }
                                         })pb"),
                                       Value(R"pb(
                                         polylines {
                                           polylines {
                                             id: "p"
                                             label: "road"
                                             points {
                                               points { x: 0.5 y: 0.5 }
                                               points { x: 0.6 y: 0.6 }
                                             }
                                             points { points { x: 0.7 y: 0.7 } }
                                             closed: true
                                             filled: true
                                           }
                                         })pb"));
  EXPECT_THAT(m.merged, EqualsProto(Value(R"pb(
                polylines {
                  polylines {
                    id: "p"
                    label: "road"
                    points {
                      points { x: 0.5 y: 0.5 }
                      points { x: 0.6 y: 0.6 }
                    }
                    points { points { x: 0.7 y: 0.7 } }
                    closed: true
                    filled: true
                  }
                })pb")));
  EXPECT_THAT(m.edited, ElementsAre("p"));
}

TEST(LabelMergeTest, UnknownIdIsAddedWholeWhenAdditionsAllowed) {
  const FieldMerge m =
      MergeFieldValue(Schema(kDetectionsSchema), Value(R"pb(
                        detections { detections { id: "a" label: "person" } })pb"),
                      Value(R"pb(
                        detections {
                          detections { id: "a" label: "person" }
                          detections {
                            id: "n"
                            label: "car"
                            confidence: 0.5
                            attributes {
                              key: "free"
                              value { bool_value: true }
                            }
                          }
                        })pb"));
  EXPECT_THAT(m.merged, EqualsProto(Value(R"pb(
                detections {
                  detections { id: "a" label: "person" }
                  detections {
                    id: "n"
                    label: "car"
                    confidence: 0.5
                    attributes {
                      key: "free"
                      value { bool_value: true }
                    }
                  }
                })pb")));
  EXPECT_THAT(m.added, ElementsAre("n"));
  EXPECT_EQ(m.ignored_added, 0);
  EXPECT_EQ(m.unchanged, 1);
}

TEST(LabelMergeTest, UnknownIdIsIgnoredWhenAdditionsDisallowed) {
  v1::FieldSchema schema = Schema(kDetectionsSchema);
  schema.set_allow_additions(false);
  const v1::FieldValue baseline =
      Value(R"pb(detections { detections { id: "a" label: "person" } })pb");
  const FieldMerge m = MergeFieldValue(schema, baseline, Value(R"pb(
                                         detections {
                                           detections { id: "a" label: "person" }
                                           detections { id: "n" label: "car" }
                                         })pb"));
  EXPECT_THAT(m.merged, EqualsProto(baseline));
  EXPECT_THAT(m.added, IsEmpty());
  EXPECT_EQ(m.ignored_added, 1);
}

TEST(LabelMergeTest, MissingLabelIsDeletedWhenDeletionsAllowed) {
  const FieldMerge m = MergeFieldValue(Schema(kDetectionsSchema), Value(R"pb(
                                         detections {
                                           detections { id: "a" label: "person" }
                                           detections { id: "b" label: "car" }
                                         })pb"),
                                       Value(R"pb(
                                         detections { detections { id: "b" label: "car" } })pb"));
  EXPECT_THAT(m.merged,
              EqualsProto(Value(R"pb(detections { detections { id: "b" label: "car" } })pb")));
  EXPECT_THAT(m.deleted, ElementsAre("a"));
  EXPECT_EQ(m.ignored_deleted, 0);
}

TEST(LabelMergeTest, MissingLabelIsKeptWhenDeletionsDisallowed) {
  v1::FieldSchema schema = Schema(kDetectionsSchema);
  schema.set_allow_deletions(false);
  const v1::FieldValue baseline = Value(R"pb(
    detections {
      detections { id: "a" label: "person" }
      detections { id: "b" label: "car" }
    })pb");
  const FieldMerge m = MergeFieldValue(
      schema, baseline, Value(R"pb(detections { detections { id: "b" label: "car" } })pb"));
  EXPECT_THAT(m.merged, EqualsProto(baseline));
  EXPECT_THAT(m.deleted, IsEmpty());
  EXPECT_EQ(m.ignored_deleted, 1);
}

TEST(LabelMergeTest, NothingDownloadedDeletesEveryLabel) {
  const FieldMerge m = MergeFieldValue(Schema(kDetectionsSchema), Value(R"pb(
                                         detections {
                                           detections { id: "a" label: "person" }
                                           detections { id: "b" label: "car" }
                                         })pb"),
                                       v1::FieldValue());
  EXPECT_THAT(m.deleted, ElementsAre("a", "b"));
  // A list field keeps its (now empty) container, as delete_labels does.
  EXPECT_THAT(m.merged, EqualsProto(Value(R"pb(detections {})pb")));
}

TEST(LabelMergeTest, LabelEditsDisallowedKeepsLabel) {
  v1::FieldSchema schema = Schema(kDetectionsSchema);
  schema.set_allow_label_edits(false);
  const FieldMerge m = MergeFieldValue(schema, Value(R"pb(
                                         detections {
                                           detections {
                                             id: "a"
                                             label: "person"
                                             bounding_box: [ 0.1, 0.1, 0.2, 0.2 ]
                                           }
                                         })pb"),
                                       Value(R"pb(
                                         detections {
                                           detections {
                                             id: "a"
                                             label: "car"
                                             bounding_box: [ 0.2, 0.2, 0.2, 0.2 ]
                                           }
                                         })pb"));
  EXPECT_THAT(m.merged, EqualsProto(Value(R"pb(
                detections {
                  detections {
                    id: "a"
                    label: "person"
                    bounding_box: [ 0.2, 0.2, 0.2, 0.2 ]
                  }
                })pb")));
  EXPECT_THAT(m.edited, ElementsAre("a"));
}

TEST(LabelMergeTest, LabelEditsDisallowedOnClassificationsCountsUnchanged) {
  v1::FieldSchema schema = Schema(R"pb(field: "weather" type: "classifications")pb");
  schema.set_allow_label_edits(false);
  const v1::FieldValue baseline = Value(R"pb(
    classifications { classifications { id: "c" label: "sunny" confidence: 0.0 } })pb");
  const FieldMerge m =
      MergeFieldValue(schema, baseline, Value(R"pb(
                        classifications { classifications { id: "c" label: "rainy" } })pb"));
  EXPECT_THAT(m.merged, EqualsProto(baseline));
  EXPECT_THAT(m.edited, IsEmpty());
  EXPECT_EQ(m.unchanged, 1);
}

TEST(LabelMergeTest, SpatialEditsDisallowedKeepsBoundingBox) {
  v1::FieldSchema schema = Schema(kDetectionsSchema);
  schema.set_allow_spatial_edits(false);
  const FieldMerge m = MergeFieldValue(schema, Value(R"pb(
                                         detections {
                                           detections {
                                             id: "a"
                                             label: "person"
                                             bounding_box: [ 0.1, 0.1, 0.2, 0.2 ]
                                           }
                                         })pb"),
                                       Value(R"pb(
                                         detections {
                                           detections {
                                             id: "a"
                                             label: "car"
                                             bounding_box: [ 0.5, 0.5, 0.1, 0.1 ]
                                           }
                                         })pb"));
  EXPECT_THAT(m.merged, EqualsProto(Value(R"pb(
                detections {
                  detections {
                    id: "a"
                    label: "car"
                    bounding_box: [ 0.1, 0.1, 0.2, 0.2 ]
                  }
                })pb")));
}

TEST(LabelMergeTest, SpatialEditsDisallowedKeepsPolylinePointsClosedAndFilled) {
  v1::FieldSchema schema = Schema(R"pb(field: "lines" type: "polylines")pb");
  schema.set_allow_spatial_edits(false);
  const FieldMerge m = MergeFieldValue(schema, Value(R"pb(
                                         polylines {
                                           polylines {
                                             id: "p"
                                             label: "road"
                                             points {
                                               points { x: 0.1 y: 0.1 }
                                               points { x: 0.2 y: 0.2 }
                                             }
                                           }
                                         })pb"),
                                       Value(R"pb(
                                         polylines {
                                           polylines {
                                             id: "p"
                                             label: "path"
                                             points {
                                               points { x: 0.5 y: 0.5 }
                                               points { x: 0.6 y: 0.6 }
                                             }
                                             closed: true
                                             filled: true
                                           }
                                         })pb"));
  EXPECT_THAT(m.merged, EqualsProto(Value(R"pb(
                polylines {
                  polylines {
                    id: "p"
                    label: "path"
                    points {
                      points { x: 0.1 y: 0.1 }
                      points { x: 0.2 y: 0.2 }
                    }
                  }
                })pb")));
}

TEST(LabelMergeTest, SpatialEditsDisallowedKeepsKeypointPoints) {
  v1::FieldSchema schema = Schema(R"pb(field: "kp" type: "keypoints")pb");
  const v1::FieldValue baseline = Value(R"pb(
    keypoints {
      keypoints {
        id: "k"
        label: "face"
        points { x: 0.1 y: 0.1 }
        points { x: 0.2 y: 0.2 }
      }
    })pb");
  const v1::FieldValue downloaded = Value(R"pb(
    keypoints {
      keypoints {
        id: "k"
        label: "face"
        points { x: 0.3 y: 0.3 }
        points { x: 0.4 y: 0.4 }
      }
    })pb");
  EXPECT_THAT(MergeFieldValue(schema, baseline, downloaded).merged, EqualsProto(downloaded));
  schema.set_allow_spatial_edits(false);
  const FieldMerge m = MergeFieldValue(schema, baseline, downloaded);
  EXPECT_THAT(m.merged, EqualsProto(baseline));
  EXPECT_EQ(m.unchanged, 1);
}

TEST(LabelMergeTest, IndexIsCopiedWhenIndexEditsAllowed) {
  const FieldMerge m = MergeFieldValue(Schema(kDetectionsSchema), Value(R"pb(
                                         detections {
                                           detections { id: "a" label: "person" index: 3 }
                                           detections { id: "b" label: "person" index: 4 }
                                         })pb"),
                                       Value(R"pb(
                                         detections {
                                           detections { id: "a" label: "person" index: 0 }
                                           detections { id: "b" label: "person" }
                                         })pb"));
  EXPECT_THAT(m.merged, EqualsProto(Value(R"pb(
                detections {
                  detections { id: "a" label: "person" index: 0 }
                  detections { id: "b" label: "person" }
                })pb")));
  EXPECT_THAT(m.edited, ElementsAre("a", "b"));
}

TEST(LabelMergeTest, IndexEditsDisallowedKeepsIndex) {
  v1::FieldSchema schema = Schema(kDetectionsSchema);
  schema.set_allow_index_edits(false);
  const v1::FieldValue baseline =
      Value(R"pb(detections { detections { id: "a" label: "person" index: 3 } })pb");
  const FieldMerge m = MergeFieldValue(
      schema, baseline,
      Value(R"pb(detections { detections { id: "a" label: "person" index: 7 } })pb"));
  EXPECT_THAT(m.merged, EqualsProto(baseline));
  EXPECT_EQ(m.unchanged, 1);
}

TEST(LabelMergeTest, SchemaAttributeMissingFromDownloadIsRemoved) {
  const FieldMerge m =
      MergeFieldValue(Schema(kDetectionsSchema), Value(R"pb(
                        detections {
                          detections {
                            id: "a"
                            label: "person"
                            attributes {
                              key: "occluded"
                              value { string_value: "yes" }
                            }
                            attributes {
                              key: "note"
                              value { string_value: "kept" }
                            }
                          }
                        })pb"),
                      Value(R"pb(
                        detections { detections { id: "a" label: "person" } })pb"));
  EXPECT_THAT(m.merged, EqualsProto(Value(R"pb(
                detections {
                  detections {
                    id: "a"
                    label: "person"
                    attributes {
                      key: "note"
                      value { string_value: "kept" }
                    }
                  }
                })pb")));
  EXPECT_THAT(m.edited, ElementsAre("a"));
}

TEST(LabelMergeTest, ReadOnlySchemaAttributeIsNeverWrittenBack) {
  v1::FieldSchema schema = Schema(kDetectionsSchema);
  schema.mutable_attributes()->mutable_specs()->mutable_specs(0)->set_read_only(true);
  const v1::FieldValue baseline = Value(R"pb(
    detections {
      detections {
        id: "a"
        label: "person"
        attributes {
          key: "occluded"
          value { string_value: "yes" }
        }
      }
      detections {
        id: "b"
        label: "person"
        attributes {
          key: "occluded"
          value { string_value: "no" }
        }
      }
    })pb");
  const FieldMerge m = MergeFieldValue(schema, baseline, Value(R"pb(
                                         detections {
                                           detections {
                                             id: "a"
                                             label: "person"
                                             attributes {
                                               key: "occluded"
                                               value { string_value: "no" }
                                             }
                                           }
                                           detections { id: "b" label: "person" }
                                         })pb"));
  EXPECT_THAT(m.merged, EqualsProto(baseline));
  EXPECT_EQ(m.unchanged, 2);
}

TEST(LabelMergeTest, ClassSpecificAttributesOnlyForLabelsOfTheGroup) {
  const v1::FieldValue baseline = Value(R"pb(
    detections {
      detections {
        id: "car"
        label: "car"
        attributes {
          key: "make"
          value { string_value: "vw" }
        }
      }
      detections {
        id: "person"
        label: "person"
        attributes {
          key: "make"
          value { string_value: "vw" }
        }
      }
      detections { id: "relabelled" label: "person" }
    })pb");
  const v1::FieldValue downloaded = Value(R"pb(
    detections {
      detections {
        id: "car"
        label: "car"
        attributes {
          key: "make"
          value { string_value: "bmw" }
        }
      }
      detections {
        id: "person"
        label: "person"
        attributes {
          key: "make"
          value { string_value: "bmw" }
        }
      }
      detections {
        id: "relabelled"
        label: "truck"
        attributes {
          key: "make"
          value { string_value: "bmw" }
        }
      }
    })pb");
  const FieldMerge m = MergeFieldValue(Schema(kDetectionsSchema), baseline, downloaded);
  EXPECT_THAT(m.merged, EqualsProto(Value(R"pb(
                detections {
                  detections {
                    id: "car"
                    label: "car"
                    attributes {
                      key: "make"
                      value { string_value: "bmw" }
                    }
                  }
                  detections {
                    id: "person"
                    label: "person"
                    attributes {
                      key: "make"
                      value { string_value: "vw" }
                    }
                  }
                  detections {
                    id: "relabelled"
                    label: "truck"
                    attributes {
                      key: "make"
                      value { string_value: "bmw" }
                    }
                  }
                })pb")));
  EXPECT_THAT(m.edited, ElementsAre("car", "relabelled"));
  EXPECT_EQ(m.unchanged, 1);

  // With label edits refused the class stays "person", outside the group.
  v1::FieldSchema no_label_edits = Schema(kDetectionsSchema);
  no_label_edits.set_allow_label_edits(false);
  const FieldMerge kept = MergeFieldValue(no_label_edits, baseline, downloaded);
  EXPECT_THAT(kept.merged.detections().detections(2),
              EqualsProto(Parse<v1::Detection>(R"pb(id: "relabelled" label: "person")pb")));
}

TEST(LabelMergeTest, KeyframeCopiedOnlyWithOnlyKeyframes) {
  const v1::FieldValue baseline =
      Value(R"pb(detections { detections { id: "a" label: "person" keyframe: false } })pb");
  const v1::FieldValue downloaded =
      Value(R"pb(detections { detections { id: "a" label: "person" keyframe: true } })pb");
  v1::FieldSchema schema = Schema(kDetectionsSchema);
  EXPECT_THAT(MergeFieldValue(schema, baseline, downloaded).merged, EqualsProto(baseline));
  schema.set_only_keyframes(true);
  EXPECT_THAT(MergeFieldValue(schema, baseline, downloaded).merged, EqualsProto(downloaded));
}

constexpr char kDetectionSchema[] = R"pb(
  field: "main"
  type: "detection"
  classes { entries { name: "car" } }
)pb";

TEST(LabelMergeTest, EmptySingleLabelFieldTakesFirstDownloadedLabel) {
  const FieldMerge m = MergeFieldValue(Schema(kDetectionSchema), v1::FieldValue(), Value(R"pb(
                                         detections {
                                           detections { id: "x" label: "car" }
                                           detections { id: "y" label: "car" }
                                         })pb"));
  EXPECT_THAT(m.merged, EqualsProto(Value(R"pb(detection { id: "x" label: "car" })pb")));
  EXPECT_THAT(m.added, ElementsAre("x"));
  EXPECT_EQ(m.ignored_added, 1);
}

TEST(LabelMergeTest, SingleLabelFieldKeepsItsLabelAgainstADifferentId) {
  const v1::FieldValue baseline = Value(R"pb(detection { id: "a" label: "car" })pb");
  const FieldMerge m = MergeFieldValue(Schema(kDetectionSchema), baseline, Value(R"pb(
                                         detections {
                                           detections { id: "a" label: "car" }
                                           detections { id: "b" label: "car" }
                                         })pb"));
  EXPECT_THAT(m.merged, EqualsProto(baseline));
  EXPECT_THAT(m.added, IsEmpty());
  EXPECT_EQ(m.ignored_added, 1);
  EXPECT_EQ(m.unchanged, 1);
}

TEST(LabelMergeTest, SingleLabelFieldTakesNewLabelWhenItsLabelWasDeletedInTheSameMerge) {
  const FieldMerge m =
      MergeFieldValue(Schema(kDetectionSchema), Value(R"pb(detection { id: "a" label: "car" })pb"),
                      Value(R"pb(detection { id: "b" label: "car" })pb"));
  EXPECT_THAT(m.merged, EqualsProto(Value(R"pb(detection { id: "b" label: "car" })pb")));
  EXPECT_THAT(m.deleted, ElementsAre("a"));
  EXPECT_THAT(m.added, ElementsAre("b"));
}

TEST(LabelMergeTest, SingleLabelFieldKeepsItsLabelWhenDeletionsDisallowed) {
  v1::FieldSchema schema = Schema(kDetectionSchema);
  schema.set_allow_deletions(false);
  const v1::FieldValue baseline = Value(R"pb(detection { id: "a" label: "car" })pb");
  const FieldMerge m =
      MergeFieldValue(schema, baseline, Value(R"pb(detection { id: "b" label: "car" })pb"));
  EXPECT_THAT(m.merged, EqualsProto(baseline));
  EXPECT_EQ(m.ignored_deleted, 1);
  EXPECT_EQ(m.ignored_added, 1);
}

TEST(LabelMergeTest, SingleLabelDeletionLeavesFieldNone) {
  const FieldMerge m =
      MergeFieldValue(Schema(R"pb(field: "w" type: "classification")pb"),
                      Value(R"pb(classification { id: "a" label: "sunny" })pb"), v1::FieldValue());
  EXPECT_EQ(m.merged.value_case(), v1::FieldValue::VALUE_NOT_SET);
  EXPECT_THAT(m.deleted, ElementsAre("a"));
}

TEST(LabelMergeTest, UnchangedDownloadChangesNothing) {
  const v1::FieldValue baseline = Value(R"pb(
    detections {
      detections {
        id: "a"
        label: "car"
        bounding_box: [ 0.1, 0.2, 0.3, 0.4 ]
        confidence: 0.0
        index: 0
        tags: "t"
        attributes {
          key: "make"
          value { string_value: "vw" }
        }
      }
      detections { id: "b" label: "person" }
    })pb");
  const FieldMerge m = MergeFieldValue(Schema(kDetectionsSchema), baseline, baseline);
  EXPECT_THAT(m.merged, EqualsProto(baseline));
  EXPECT_THAT(m.added, IsEmpty());
  EXPECT_THAT(m.edited, IsEmpty());
  EXPECT_THAT(m.deleted, IsEmpty());
  EXPECT_EQ(m.unchanged, 2);
  EXPECT_EQ(m.ignored_added + m.ignored_deleted, 0);
}

TEST(LabelMergeTest, CountsOfAMixedMerge) {
  const FieldMerge m = MergeFieldValue(Schema(kDetectionsSchema), Value(R"pb(
                                         detections {
                                           detections { id: "same" label: "person" }
                                           detections { id: "moved" label: "person" }
                                           detections { id: "gone" label: "person" }
                                         })pb"),
                                       Value(R"pb(
                                         detections {
                                           detections { id: "new" label: "car" }
                                           detections { id: "moved" label: "car" }
                                           detections { id: "same" label: "person" }
                                         })pb"));
  EXPECT_THAT(m.added, ElementsAre("new"));
  EXPECT_THAT(m.edited, ElementsAre("moved"));
  EXPECT_THAT(m.deleted, ElementsAre("gone"));
  EXPECT_EQ(m.unchanged, 1);
  // Baseline order first, additions after.
  EXPECT_THAT(m.merged, EqualsProto(Value(R"pb(
                detections {
                  detections { id: "same" label: "person" }
                  detections { id: "moved" label: "car" }
                  detections { id: "new" label: "car" }
                })pb")));
}

TEST(LabelMergeTest, AsNewAddsEverythingWhateverTheFlags) {
  v1::FieldSchema schema = Schema(kDetectionsSchema);
  schema.set_allow_additions(false);
  schema.set_allow_deletions(false);
  const v1::FieldValue downloaded = Value(R"pb(
    detections {
      detections { id: "a" label: "person" }
      detections { id: "b" label: "car" }
    })pb");
  const FieldMerge m = MergeFieldValue(schema, v1::FieldValue(), downloaded, /*as_new=*/true);
  EXPECT_THAT(m.merged, EqualsProto(downloaded));
  EXPECT_THAT(m.added, ElementsAre("a", "b"));
  EXPECT_EQ(m.ignored_added, 0);
  EXPECT_EQ(m.unchanged, 0);
}

TEST(LabelMergeTest, NoneBaselineWithNothingDownloadedStaysUnset) {
  const FieldMerge m =
      MergeFieldValue(Schema(kDetectionsSchema), v1::FieldValue(), v1::FieldValue());
  EXPECT_EQ(m.merged.value_case(), v1::FieldValue::VALUE_NOT_SET);
  EXPECT_TRUE(m.added.empty() && m.edited.empty() && m.deleted.empty());
  EXPECT_EQ(m.unchanged, 0);

  // An existing empty container stays an empty container.
  const FieldMerge kept =
      MergeFieldValue(Schema(kDetectionsSchema), Value("detections {}"), v1::FieldValue());
  EXPECT_THAT(kept.merged, EqualsProto(Value("detections {}")));
}

}  // namespace
}  // namespace labelport::core

namespace labelport::core {
namespace {

constexpr char kSegmentationSchema[] = R"pb(
  field: "segs"
  type: "segmentation"
  mask_targets { key: 1 value: "road" })pb";

TEST(SegmentationMergeTest, EditedMaskReplacesThePixelsKeepingIdTagsAndAttributes) {
  const v1::FieldValue baseline = Value(R"pb(
    segmentation {
      id: "s"
      width: 2
      height: 1
      bytes_per_pixel: 1
      mask: "\001\000"
      tags: "keep"
      attributes {
        key: "source"
        value { string_value: "model" }
      }
    })pb");
  const FieldMerge m = MergeFieldValue(
      Schema(kSegmentationSchema), baseline, Value(R"pb(
        segmentation { id: "s" width: 1 height: 1 bytes_per_pixel: 2 mask: "\001\001" })pb"));
  v1::FieldValue expected = baseline;
  expected.mutable_segmentation()->set_width(1);
  expected.mutable_segmentation()->set_bytes_per_pixel(2);
  expected.mutable_segmentation()->set_mask(std::string("\1\1", 2));
  EXPECT_THAT(m.merged, EqualsProto(expected));
  EXPECT_THAT(m.edited, ElementsAre("s"));

  v1::FieldSchema frozen = Schema(kSegmentationSchema);
  frozen.set_allow_spatial_edits(false);
  const FieldMerge kept = MergeFieldValue(
      frozen, baseline, Value(R"pb(
        segmentation { id: "s" width: 2 height: 1 bytes_per_pixel: 1 mask: "\000\000" })pb"));
  EXPECT_THAT(kept.merged, EqualsProto(baseline));
  EXPECT_EQ(kept.unchanged, 1);
}

TEST(SegmentationMergeTest, UnchangedDeletedAndAddedMasks) {
  const v1::FieldValue mask = Value(R"pb(
    segmentation { id: "s" width: 1 height: 1 bytes_per_pixel: 1 mask: "\001" })pb");
  const FieldMerge same = MergeFieldValue(Schema(kSegmentationSchema), mask, mask);
  EXPECT_THAT(same.merged, EqualsProto(mask));
  EXPECT_EQ(same.unchanged, 1);

  const FieldMerge gone = MergeFieldValue(Schema(kSegmentationSchema), mask, v1::FieldValue());
  EXPECT_THAT(gone.deleted, ElementsAre("s"));
  EXPECT_THAT(gone.merged, EqualsProto(v1::FieldValue()));

  const FieldMerge added = MergeFieldValue(Schema(kSegmentationSchema), v1::FieldValue(), mask);
  EXPECT_THAT(added.added, ElementsAre("s"));
  EXPECT_THAT(added.merged, EqualsProto(mask));
}

TEST(InstanceMergeTest, SpatialEditsCopyTheInstanceMask) {
  const v1::FieldSchema schema = Schema(R"pb(field: "people" type: "instances")pb");
  const FieldMerge m = MergeFieldValue(
      schema, testing::Detections({testing::MaskedBox("a", "person", 1, 1, "\001")}),
      testing::Detections(
          {testing::MaskedBox("a", "person", 2, 1, std::string("\001\000", 2), {0, 0, 0.5, 0.5})}));
  EXPECT_EQ(m.merged.detections().detections(0).instance_mask().width(), 2u);
  EXPECT_THAT(m.edited, ElementsAre("a"));
}

}  // namespace
}  // namespace labelport::core
